"""The Blueprint every resource uses: flask-smorest's, with a JSON parser that refuses any body
it cannot read as a 400 problem.

webargs answers 400 only for ``json.JSONDecodeError``; ``json.loads`` raises ``RecursionError``
for deep nesting (``[[[[...`` a hundred thousand deep) and ``ValueError`` for an integer of more
than 4,300 digits (Python's int-from-string limit), and both escaped as 500s.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import flask
import flask_smorest
from webargs.flaskparser import FlaskParser


class Parser(FlaskParser):
    def _raw_load_json(self, req: flask.Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise  # webargs' own 400
        except (RecursionError, ValueError) as error:
            self._refuse(error)

    @staticmethod
    def _refuse(error: Exception) -> NoReturn:
        # The same answer webargs gives for any other body that is not JSON.
        flask_smorest.abort(400, exc=error, messages={"json": ["Invalid JSON body."]})


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()
