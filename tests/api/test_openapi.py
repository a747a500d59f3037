from flask.testing import FlaskClient


def test_openapi_document_is_served_as_json(client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.json
    assert document["openapi"].startswith("3.")
    assert "/healthz" in document["paths"]


def test_openapi_documents_errors_as_problem_json(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").json

    default_error = document["components"]["responses"]["DEFAULT_ERROR"]
    assert "application/problem+json" in default_error["content"]
    assert set(document["components"]["schemas"]["Problem"]["properties"]) == {
        "type",
        "title",
        "status",
        "detail",
        "errors",
    }


def test_docs_page_loads_the_openapi_document(client: FlaskClient) -> None:
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "/api/openapi.json" in response.get_data(as_text=True)
