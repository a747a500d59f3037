"""`prom demo` (run by `make run`): a usable demo study, loaded exactly once."""

from __future__ import annotations

from sqlalchemy import func, select


def test_demo_loads_once_and_its_participants_can_activate(runner, client, db_session):
    from prom.models.participants import Participant
    from prom.models.studies import Study

    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Demo loaded" in first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert "already loaded" in second.output
    assert db_session.scalar(select(func.count()).select_from(Study)
                             .where(Study.code == "DEMO-ICBT")) == 1
    study = db_session.scalar(select(Study).where(Study.code == "DEMO-ICBT"))
    assert [arm.code for arm in study.arms] == ["icbt", "education", "usual_care"]
    assert [t.code for t in study.schedule][:2] == ["baseline", "week1"]
    assert db_session.scalar(select(func.count()).select_from(Participant)
                             .where(Participant.study_id == study.id)) == 3

    code = first.output.split("activation code ")[1].split()[0]
    activated = client.post("/api/v1/auth/activate",
                            json={"activation_code": code, "password": "a-long-password"})
    assert activated.status_code == 200
    admin = client.post("/api/v1/auth/login", json={"email": "admin@demo.prom.local",
                                                    "password": "demo-admin-password"})
    assert admin.status_code == 200
