"""The loader: the shipped library loads; every broken definition is reported with its file name,
the JSON path inside the document and a reason (instruments/README.md, "Checks the loader adds").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from prom.instruments import LibraryError, UnknownInstrument, load_library

SHIPPED = Path(__file__).resolve().parents[3] / "instruments"


def located(errors):
    """(file name, JSON path) of each error, in the order reported."""
    return [(Path(error.file).name, error.path) for error in errors]


# ----------------------------------------------------------------------------- shipped library


def test_shipped_library_loads_every_definition_file(shipped_library):
    files = sorted(path.name for path in SHIPPED.glob("*.yaml"))
    assert sorted(f"{d.id}-{d.version}.yaml" for d in shipped_library) == files
    assert len(shipped_library) == len(files)


def test_every_shipped_definition_has_an_english_title(shipped_library):
    missing = [d.id for d in shipped_library if not d.title.get("en")]
    assert missing == []


def test_every_shipped_definition_lists_english_and_ships_text_as_its_licence_allows(
        shipped_library):
    for definition in shipped_library:
        assert "en" in definition.languages, definition.id
        if definition.license.text_included:
            assert definition.text_source == "bundled"
            assert all(item.text.get("en") for item in definition.items), definition.id
        else:
            assert definition.text_source == "none"
            assert all(not item.text for item in definition.items), definition.id


# ------------------------------------------------------------------------------ valid documents


def test_minimal_definition_loads(minimal_definition, write_library):
    directory = write_library({"mini-1.yaml": minimal_definition()})

    library = load_library(directory)

    definition = library.get("mini")
    assert definition.key == ("mini", "1")
    assert definition.title == {"en": "Mini questionnaire"}
    assert [item.id for item in definition.items] == ["q1", "q2", "q3"]
    assert definition.item("q1").required is True
    assert definition.item("q2").required is False
    assert definition.item("q1").response_set == "rating"
    assert (definition.item("q1").response.min, definition.item("q1").response.max) == (0, 4)
    assert [scale.id for scale in definition.scales] == ["total"]
    assert definition.scale("total").min_answered == 3  # default: every item
    assert definition.scale("total").range == (0, 12)
    assert definition.text_source == "bundled"
    assert definition.source == directory / "mini-1.yaml"
    assert library.directory == directory
    assert library.overlay_directory is None


def test_yml_extension_and_three_part_versions_are_accepted(minimal_definition, write_library):
    directory = write_library({"mini-1.0.2.yml": minimal_definition(version="1.0.2")})

    assert load_library(directory).get("mini").version == "1.0.2"


def test_valid_lookup_scale_loads_its_table(minimal_definition, write_library):
    document = minimal_definition()
    document["scales"][0].update(method="lookup", table={"file": "t.csv", "key": "total"},
                                 range=[20, 44])
    rows = [("total", raw, 20 + 2 * raw) for raw in range(13)]
    directory = write_library({"mini-1.yaml": document}, tables={"t.csv": rows})

    table = load_library(directory).get("mini").scale("total").table

    assert (table.raw_min, table.raw_max) == (0, 12)
    assert table.scores[0] == 20
    assert table.scores[-1] == 44


def test_missing_library_directory_is_an_error(tmp_path, library_errors):
    errors = library_errors(tmp_path / "nowhere")

    assert [(error.file, error.path) for error in errors] == [(str(tmp_path / "nowhere"), "$")]
    assert "not found" in errors[0].reason


# ----------------------------------------------------------------------- YAML and JSON Schema


def test_yaml_syntax_error_is_reported_with_its_line(write_library, library_errors):
    text = 'id: mini\nversion: "1"\ntitle: en: Mini\n'
    directory = write_library({"mini-1.yaml": text})

    errors = library_errors(directory)

    assert located(errors) == [("mini-1.yaml", "line 3")]
    assert "not valid YAML" in errors[0].reason


@pytest.mark.parametrize("text", ["- a\n- list\n", "just a string\n", ""],
                         ids=["list", "scalar", "empty"])
def test_document_that_is_not_a_mapping_is_rejected(text, write_library, library_errors):
    errors = library_errors(write_library({"mini-1.yaml": text}))

    assert located(errors) == [("mini-1.yaml", "$")]
    assert "must be a mapping" in errors[0].reason


def test_unknown_top_level_field_is_rejected(minimal_definition, write_library, library_errors):
    document = minimal_definition()
    document["colour"] = "blue"

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$")]
    assert "'colour' was unexpected" in errors[0].reason


@pytest.mark.parametrize(
    ("field", "value", "path", "reason"),
    [
        ("version", 1, "$.version", "1 is not of type 'string'"),
        ("domains", "pain_intensity", "$.domains", "is not of type 'array'"),
        ("languages", ["en", "English"], "$.languages[1]", "does not match"),
    ],
    ids=["version-unquoted", "domains-not-a-list", "language-tag"],
)
def test_field_of_the_wrong_type_is_rejected(field, value, path, reason, minimal_definition,
                                             write_library, library_errors):
    document = minimal_definition()
    document[field] = value

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", path)]
    assert reason in errors[0].reason


def test_item_field_of_the_wrong_type_is_located_inside_the_item(
        minimal_definition, write_library, library_errors):
    document = minimal_definition()
    document["items"][1]["required"] = "yes"

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.items[1].required")]
    assert "is not of type 'boolean'" in errors[0].reason


@pytest.mark.parametrize("field", ["title", "domains", "recall_period", "license", "languages",
                                   "items"])
def test_missing_required_field_is_rejected(field, minimal_definition, write_library,
                                            library_errors):
    document = minimal_definition()
    del document[field]

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$")]
    assert f"'{field}' is a required property" in errors[0].reason


# ------------------------------------------------------------------------ names and uniqueness


@pytest.mark.parametrize("file_name", ["other-1.yaml", "mini-2.yaml", "mini-1.0.yaml",
                                       "mini_1.yaml", "mini.yaml"])
def test_file_name_must_be_id_dash_version(file_name, minimal_definition, write_library,
                                           library_errors):
    errors = library_errors(write_library({file_name: minimal_definition()}))

    assert located(errors) == [(file_name, "$.id")]
    assert "file name must be mini-1.yaml" in errors[0].reason


def test_duplicate_item_ids_are_rejected(minimal_definition, write_library, library_errors):
    document = minimal_definition()
    document["items"].append({"id": "q2", "label": "Again", "text": {"en": "Again?"},
                              "response": "rating"})

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.items[3].id")]
    assert "duplicate item id 'q2'" in errors[0].reason


def test_duplicate_scale_ids_are_rejected(minimal_definition, write_library, library_errors):
    document = minimal_definition()
    document["scales"].append({**document["scales"][0], "items": ["q1"], "range": [0, 4]})

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[1].id")]
    assert "duplicate scale id 'total'" in errors[0].reason


def test_same_id_and_version_in_two_files_is_rejected(minimal_definition, write_library,
                                                      library_errors):
    directory = write_library({"mini-1.yaml": minimal_definition(),
                               "mini-1.yml": minimal_definition()})

    errors = library_errors(directory)

    assert located(errors) == [("mini-1.yml", "$.id")]
    assert "mini version 1 is defined twice" in errors[0].reason


# ------------------------------------------------------------------------------------- scales


def test_scale_referring_to_an_unknown_item_is_rejected(minimal_definition, write_library,
                                                        library_errors):
    document = minimal_definition()
    document["scales"][0]["items"].append("q9")

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].items[3]")]
    assert "unknown item 'q9'" in errors[0].reason


@pytest.mark.parametrize("response", [{"type": "text", "max_length": 200}, {"type": "date"}],
                         ids=["text", "date"])
def test_scale_using_an_unscorable_item_is_rejected(response, minimal_definition, write_library,
                                                    library_errors):
    document = minimal_definition()
    document["items"].append({"id": "note", "label": "Note", "text": {"en": "Anything else?"},
                              "response": response})
    document["scales"][0]["items"].append("note")

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].items[3]")]
    assert f"item 'note' ({response['type']}) cannot be scored" in errors[0].reason


def test_reverse_item_outside_the_scale_is_rejected(minimal_definition, write_library,
                                                    library_errors):
    document = minimal_definition()
    document["scales"][0].update(items=["q1", "q2"], range=[0, 8], reverse=["q3"])

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].reverse")]
    assert "'q3' is not an item of this scale" in errors[0].reason


def test_recode_map_must_cover_the_whole_item_range(minimal_definition, write_library,
                                                    library_errors):
    document = minimal_definition()
    document["scales"][0]["recode"] = [
        {"items": ["q1"], "map": {"0": 100, "1": 75, "2": 50, "3": 25}},  # no "4"
    ]

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].recode[0].map")]
    assert "does not cover 'q1'" in errors[0].reason
    assert "[4]" in errors[0].reason


def test_min_answered_above_the_number_of_items_is_rejected(minimal_definition, write_library,
                                                            library_errors):
    document = minimal_definition()
    document["scales"][0].update(method="mean", min_answered=4, range=[0, 4])

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].min_answered")]
    assert "more than the scale's 3 items" in errors[0].reason


@pytest.mark.parametrize("method", ["sum", "lookup", "named"])
def test_method_that_needs_every_item_rejects_a_lower_min_answered(
        method, minimal_definition, write_library, library_errors):
    document = minimal_definition()
    document["scales"][0].update(method=method, min_answered=2)
    if method == "lookup":
        document["scales"][0]["table"] = {"file": "t.csv", "key": "total"}
    if method == "named":
        document["scales"][0]["scorer"] = {"name": "eq5d5l_index",
                                           "params": {"value_set": "england"}}

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].min_answered")]
    assert f"method {method} needs every item" in errors[0].reason


def test_count_codes_must_be_answers_of_the_items(minimal_definition, write_library,
                                                  library_errors):
    document = minimal_definition()
    document["scales"][0].update(method="count", codes=[4, 9], range=[0, 3])

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].codes")]
    assert "code 9 is not an answer of any item" in errors[0].reason


def test_codes_on_a_method_other_than_count_are_rejected(minimal_definition, write_library,
                                                         library_errors):
    document = minimal_definition()
    document["scales"][0]["codes"] = [1]

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].codes")]
    assert "count only" in errors[0].reason


# ------------------------------------------------------------------------------ lookup tables


def lookup_definition(minimal_definition):
    document = minimal_definition()
    document["scales"][0].update(method="lookup", table={"file": "t.csv", "key": "total"},
                                 range=[20, 44])
    return document


def test_lookup_table_file_must_exist(minimal_definition, write_library, library_errors):
    directory = write_library({"mini-1.yaml": lookup_definition(minimal_definition)})

    errors = library_errors(directory)

    assert located(errors) == [("mini-1.yaml", "$.scales[0].table.file")]
    assert "table file t.csv not found" in errors[0].reason


def test_lookup_table_must_have_rows_for_the_key(minimal_definition, write_library,
                                                 library_errors):
    rows = [("other", raw, raw) for raw in range(13)]
    directory = write_library({"mini-1.yaml": lookup_definition(minimal_definition)},
                              tables={"t.csv": rows})

    errors = library_errors(directory)

    assert located(errors) == [("mini-1.yaml", "$.scales[0].table.key")]
    assert "no rows for key 'total'" in errors[0].reason


def test_lookup_table_with_a_gap_in_raw_scores_is_rejected(minimal_definition, write_library,
                                                           library_errors):
    rows = [("total", raw, 20 + 2 * raw) for raw in range(13) if raw not in (5, 6)]
    directory = write_library({"mini-1.yaml": lookup_definition(minimal_definition)},
                              tables={"t.csv": rows})

    errors = library_errors(directory)

    assert located(errors) == [("mini-1.yaml", "$.scales[0].table.key")]
    assert "gaps at raw [5, 6]" in errors[0].reason


def test_lookup_table_with_a_duplicate_raw_score_is_rejected(minimal_definition, write_library,
                                                             library_errors):
    rows = [("total", raw, 20 + 2 * raw) for raw in range(13)] + [("total", 7, 35)]
    directory = write_library({"mini-1.yaml": lookup_definition(minimal_definition)},
                              tables={"t.csv": rows})

    errors = library_errors(directory)

    assert located(errors) == [("mini-1.yaml", "$.scales[0].table.key")]
    assert "duplicate raw scores" in errors[0].reason


@pytest.mark.parametrize("raws", [range(11), range(1, 13), range(14)],
                         ids=["too-short", "starts-late", "too-long"])
def test_lookup_table_raw_range_must_match_the_items(raws, minimal_definition, write_library,
                                                     library_errors):
    rows = [("total", raw, 20 + 2 * raw) for raw in raws]
    directory = write_library({"mini-1.yaml": lookup_definition(minimal_definition)},
                              tables={"t.csv": rows})

    errors = library_errors(directory)

    assert located(errors) == [("mini-1.yaml", "$.scales[0].table")]
    assert f"covers raw {raws[0]}..{raws[-1]}; the items give 0..12" in errors[0].reason


# ---------------------------------------------------------------------------- ranges and bands


@pytest.mark.parametrize(
    ("changes", "gives"),
    [
        ({"method": "sum", "range": [0, 10]}, "[0.0, 12.0]"),
        ({"method": "mean", "range": [0, 12]}, "[0.0, 4.0]"),
        ({"method": "prorated_sum", "range": [1, 12]}, "[0.0, 12.0]"),
        ({"method": "percent_of_max", "range": [0, 12]}, "[0.0, 100.0]"),
        ({"method": "count", "codes": [4], "range": [0, 12]}, "[0.0, 3.0]"),
        ({"method": "sum", "reverse": ["q1"], "recode": [
            {"items": ["q1"], "map": {"0": 0, "1": 10, "2": 20, "3": 30, "4": 40}}],
          "range": [0, 12]}, "[0.0, 48.0]"),
    ],
    ids=["sum", "mean", "prorated_sum", "percent_of_max", "count", "sum-after-recode"],
)
def test_declared_range_must_match_what_the_method_gives(changes, gives, minimal_definition,
                                                         write_library, library_errors):
    document = minimal_definition()
    document["scales"][0].update(changes)

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].range")]
    assert f"method {changes['method']} over these items gives {gives}" in errors[0].reason


def test_declared_range_of_a_lookup_is_the_range_of_its_table_scores(
        minimal_definition, write_library, library_errors):
    document = minimal_definition()
    document["scales"][0].update(method="lookup", table={"file": "t.csv", "key": "total"},
                                 range=[0, 12])
    rows = [("total", raw, 20 + 2 * raw) for raw in range(13)]

    errors = library_errors(write_library({"mini-1.yaml": document}, tables={"t.csv": rows}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].range")]
    assert "gives [20.0, 44.0]" in errors[0].reason


def band(code, minimum):
    return {"code": code, "min": minimum, "label": {"en": code.capitalize()}}


def test_bands_must_start_at_the_range_minimum(minimal_definition, write_library,
                                               library_errors):
    document = minimal_definition()
    document["scales"][0]["bands"] = [band("mild", 1), band("severe", 8)]

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].bands[0].min")]
    assert "must start at the range minimum 0" in errors[0].reason


@pytest.mark.parametrize("third_min", [3, 4], ids=["decreasing", "repeated"])
def test_band_minimums_must_increase(third_min, minimal_definition, write_library,
                                     library_errors):
    document = minimal_definition()
    document["scales"][0]["bands"] = [band("none", 0), band("mild", 4),
                                      band("moderate", third_min), band("severe", 10)]

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].bands[2].min")]
    assert "band minimums must increase" in errors[0].reason


def test_valid_bands_are_loaded_in_order(minimal_definition, write_library):
    document = minimal_definition()
    document["scales"][0]["bands"] = [band("none", 0), band("mild", 1), band("severe", 8)]

    scale = load_library(write_library({"mini-1.yaml": document})).get("mini").scale("total")

    assert [(b.code, b.min) for b in scale.bands] == [("none", 0), ("mild", 1), ("severe", 8)]
    assert scale.band_for(7.5).code == "mild"


# ---------------------------------------------------------------------------- skip conditions


@pytest.mark.parametrize("controller", ["q2", "q3", "nope"],
                         ids=["later-item", "much-later-item", "unknown-item"])
def test_show_if_must_refer_to_an_earlier_item(controller, minimal_definition, write_library,
                                               library_errors):
    document = minimal_definition()
    document["items"][0]["show_if"] = {"item": controller, "gte": 1}

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.items[0].show_if.item")]
    assert f"must refer to an earlier item: {controller!r}" in errors[0].reason


def test_show_if_may_not_refer_to_the_item_itself(minimal_definition, write_library,
                                                  library_errors):
    document = minimal_definition()
    document["items"][1]["show_if"] = {"item": "q2", "gte": 1}

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.items[1].show_if.item")]
    assert "earlier item" in errors[0].reason


@pytest.mark.parametrize(
    ("condition", "path"),
    [
        ({"item": "q1", "equals": 7}, "$.items[1].show_if.equals"),
        ({"item": "q1", "not_equals": -1}, "$.items[1].show_if.not_equals"),
        ({"item": "q1", "equals": "1"}, "$.items[1].show_if.equals"),
        ({"item": "q1", "equals": True}, "$.items[1].show_if.equals"),
        ({"item": "q1", "in": [1, 5]}, "$.items[1].show_if.in"),
        ({"any": [{"item": "q1", "equals": 1}, {"item": "q1", "equals": 9}]},
         "$.items[1].show_if.any[1].equals"),
        ({"all": [{"item": "q1", "equals": 2.5}]}, "$.items[1].show_if.all[0].equals"),
    ],
    ids=["above-max", "below-min", "string", "boolean", "in-list", "any-part", "all-float"],
)
def test_show_if_operand_must_be_a_value_the_item_can_take(condition, path, minimal_definition,
                                                           write_library, library_errors):
    document = minimal_definition()
    document["items"][1]["show_if"] = condition

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", path)]
    assert "is not a value item 'q1' can take" in errors[0].reason


@pytest.mark.parametrize(
    ("options", "operand"),
    [
        ([{"code": 0, "label": {"en": "No"}}, {"code": 1, "label": {"en": "Yes"}}], 2),
        ([{"code": "no", "label": {"en": "No"}}, {"code": "yes", "label": {"en": "Yes"}}], "maybe"),
        ([{"code": "no", "label": {"en": "No"}}, {"code": "yes", "label": {"en": "Yes"}}], 1),
    ],
    ids=["integer-code", "text-code", "position-instead-of-code"],
)
def test_show_if_on_a_choice_item_must_name_one_of_its_codes(options, operand,
                                                             minimal_definition, write_library,
                                                             library_errors):
    document = minimal_definition()
    document["items"].insert(0, {"id": "gate", "label": "Gate", "text": {"en": "Any?"},
                                 "response": {"type": "single_choice", "options": options}})
    document["items"][2]["show_if"] = {"item": "gate", "equals": operand}

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.items[2].show_if.equals")]
    assert "is not a value item 'gate' can take" in errors[0].reason


def test_hidden_value_without_show_if_is_rejected(minimal_definition, write_library,
                                                  library_errors):
    document = minimal_definition()
    document["items"][1]["hidden_value"] = 0

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.items[1].hidden_value")]
    assert "needs a show_if" in errors[0].reason


def test_hidden_value_must_be_a_value_the_item_can_take(minimal_definition, write_library,
                                                        library_errors):
    document = minimal_definition()
    document["items"][1].update(show_if={"item": "q1", "gte": 1}, hidden_value=5)

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.items[1].hidden_value")]
    assert "a value the item can take" in errors[0].reason


def test_scale_item_that_can_be_hidden_needs_a_hidden_value(minimal_definition, write_library,
                                                            library_errors):
    document = minimal_definition()
    document["items"][1]["show_if"] = {"item": "q1", "gte": 1}

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].items[1]")]
    assert "item 'q2' can be hidden by its show_if" in errors[0].reason
    assert "hidden_value" in errors[0].reason


def test_scale_item_that_can_be_hidden_loads_with_a_hidden_value(minimal_definition,
                                                                 write_library):
    document = minimal_definition()
    document["items"][1].update(show_if={"item": "q1", "gte": 1}, hidden_value=0)

    item = load_library(write_library({"mini-1.yaml": document})).get("mini").item("q2")

    assert item.hidden_value == 0
    assert item.show_if.mode == "single"
    assert [(c.ref, c.operator, c.operand) for c in item.show_if.comparisons] == [("q1", "gte", 1)]


# ------------------------------------------------------------------------ text and languages


def test_text_included_requires_english_text_on_every_item(minimal_definition, write_library,
                                                           library_errors):
    document = minimal_definition()
    del document["items"][1]["text"]
    document["languages"] = ["en", "de"]
    document["items"][2]["text"] = {"de": "Wie sehr auf die dritte Art?"}

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.items[1].text"),
                               ("mini-1.yaml", "$.items[2].text")]
    assert all("English text is required" in error.reason for error in errors)


def test_text_not_included_forbids_item_text(minimal_definition, write_library, library_errors):
    document = minimal_definition()
    document["license"]["text_included"] = False
    del document["items"][0]["text"]

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.items[1].text"),
                               ("mini-1.yaml", "$.items[2].text")]
    assert all("text_included is false" in error.reason for error in errors)


def test_text_not_included_loads_with_labels_only(minimal_definition, write_library):
    document = minimal_definition()
    document["license"]["text_included"] = False
    for item in document["items"]:
        del item["text"]

    definition = load_library(write_library({"mini-1.yaml": document})).get("mini")

    assert definition.text_source == "none"
    assert [(item.label, dict(item.text)) for item in definition.items] == [
        ("Question 1", {}), ("Question 2", {}), ("Question 3", {})]


def test_item_text_in_a_language_not_listed_is_rejected(minimal_definition, write_library,
                                                        library_errors):
    document = minimal_definition()
    document["items"][2]["text"]["de"] = "Wie sehr auf die dritte Art?"

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.items[2].text.de")]
    assert "language 'de' is not listed in languages" in errors[0].reason


def test_languages_must_include_english(minimal_definition, write_library, library_errors):
    document = minimal_definition()
    document["languages"] = ["de"]
    document["license"]["text_included"] = False
    for item in document["items"]:
        del item["text"]

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.languages")]
    assert "English (en) is required" in errors[0].reason


# --------------------------------------------------------------------- named scorers and alerts


def test_unknown_named_scorer_is_rejected(minimal_definition, write_library, library_errors):
    document = minimal_definition()
    document["scales"][0].update(method="named", scorer={"name": "crystal_ball"})

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].scorer")]
    assert "unknown named scorer 'crystal_ball'" in errors[0].reason


def test_alert_on_an_unknown_scale_is_rejected(minimal_definition, write_library,
                                               library_errors):
    document = minimal_definition()
    document["alerts"] = [
        {"id": "high_total", "when": {"scale": "total", "gte": 10}, "severity": "high",
         "message": {"en": "Total is 10 or more"}},
        {"id": "high_other", "when": {"scale": "other", "gte": 10}, "severity": "high",
         "message": {"en": "Other is 10 or more"}},
    ]

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.alerts[1].when.scale")]
    assert "unknown scale 'other'" in errors[0].reason


def test_alert_on_a_scale_with_its_own_error_is_not_reported_as_unknown(
        minimal_definition, write_library, library_errors):
    document = minimal_definition()
    document["scales"][0]["range"] = [0, 99]
    document["alerts"] = [{"id": "high_total", "when": {"scale": "total", "gte": 10},
                           "severity": "high", "message": {"en": "Total is 10 or more"}}]

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.scales[0].range")]


def test_alert_on_an_unknown_item_is_rejected(minimal_definition, write_library,
                                              library_errors):
    document = minimal_definition()
    document["alerts"] = [{"id": "a", "when": {"any": [{"item": "q1", "gte": 3},
                                                       {"item": "q7", "gte": 3}]},
                           "severity": "low", "message": {"en": "High"}}]

    errors = library_errors(write_library({"mini-1.yaml": document}))

    assert located(errors) == [("mini-1.yaml", "$.alerts[0].when.any[1].item")]
    assert "unknown item: 'q7'" in errors[0].reason


# ------------------------------------------------------------------- every problem in one run


def test_every_problem_in_every_file_is_reported_in_one_run(minimal_definition, write_library,
                                                            library_errors):
    unknown_field = minimal_definition(id="alpha")
    unknown_field["colour"] = "blue"
    several = minimal_definition(id="beta")
    several["items"][2]["text"]["fr"] = "Combien?"
    several["scales"][0]["range"] = [0, 99]
    several["scales"].append({"id": "mean", "label": {"en": "Mean"}, "method": "mean",
                              "items": ["q1", "q9"], "range": [0, 4], "higher_is": "worse"})
    several["alerts"] = [{"id": "a", "when": {"scale": "nope", "gte": 1}, "severity": "low",
                          "message": {"en": "x"}}]
    directory = write_library({
        "alpha-1.yaml": unknown_field,
        "beta-1.yaml": several,
        "broken-1.yaml": "id: [unclosed\n",
        "gamma-1.yaml": minimal_definition(id="delta"),
        "ok-1.yaml": minimal_definition(id="ok"),
    })

    errors = library_errors(directory)

    assert sorted(located(errors)) == [
        ("alpha-1.yaml", "$"),
        ("beta-1.yaml", "$.alerts[0].when.scale"),
        ("beta-1.yaml", "$.items[2].text.fr"),
        ("beta-1.yaml", "$.scales[0].range"),
        ("beta-1.yaml", "$.scales[1].items[1]"),
        ("broken-1.yaml", "line 2"),
        ("gamma-1.yaml", "$.id"),
    ]
    with pytest.raises(LibraryError, match=r"7 problem\(s\)"):
        load_library(directory)


# ---------------------------------------------------------------------------- Library lookups


@pytest.fixture(scope="module")
def two_versions(minimal_definition, write_library):
    newer = minimal_definition(version="1.10")
    newer["title"] = {"en": "Mini questionnaire, revised"}
    return load_library(write_library({
        "mini-1.9.yaml": minimal_definition(version="1.9"),
        "mini-1.10.yaml": newer,
        "other-2.yaml": minimal_definition(id="other", version="2"),
    }))


def test_get_without_version_returns_the_numerically_latest(two_versions):
    latest = two_versions.get("mini")

    assert latest.version == "1.10"
    assert latest.title["en"] == "Mini questionnaire, revised"


def test_get_with_version_returns_that_version(two_versions):
    assert two_versions.get("mini", "1.9").version == "1.9"
    assert two_versions.get("mini", "1.10").version == "1.10"


def test_versions_sort_numerically(two_versions):
    assert two_versions.versions("mini") == ["1.9", "1.10"]
    assert [(d.id, d.version) for d in two_versions.latest()] == [("mini", "1.10"),
                                                                   ("other", "2")]
    assert [(d.id, d.version) for d in two_versions] == [("mini", "1.9"), ("mini", "1.10"),
                                                         ("other", "2")]
    assert len(two_versions) == 3


@pytest.mark.parametrize(("instrument_id", "version"),
                         [("nope", None), ("nope", "1"), ("mini", "2"), ("mini", "1.09")])
def test_get_unknown_instrument_or_version_raises(two_versions, instrument_id, version):
    with pytest.raises(UnknownInstrument) as raised:
        two_versions.get(instrument_id, version)

    assert raised.value.instrument_id == instrument_id
    assert raised.value.version == version
    assert isinstance(raised.value, LookupError)
