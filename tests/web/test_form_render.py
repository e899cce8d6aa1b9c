"""Task forms drawn from JSON Schema, and submitted text turned back into JSON types for the engine."""
import json
from pathlib import Path

from engine.errors import FieldError
from web.form_render import describe, display_values, field_views, parse_submission, split_errors

FORMS = Path(__file__).resolve().parents[2] / "forms"


def schema(name):
    return json.loads((FORMS / f"{name}.json").read_text(encoding="utf-8"))


def widgets(name):
    return {view.name: view.widget for view in field_views(schema(name))}


def test_the_intake_form_uses_a_widget_per_kind_of_field():
    assert widgets("intake") == {
        "title": "text", "summary": "textarea", "occurred_on": "date", "address": "text",
        "channel": "select",  # ten source channels: too many for radios
        "people_count": "number", "amount": "number", "applicant_name": "text", "applicant_id_number": "text",
        "applicant_phone": "text", "respondent_name": "text", "respondent_phone": "text",
    }


def test_short_enumerations_and_yes_no_questions_are_radio_buttons():
    assert widgets("assess")["risk_color"] == "radio"
    accepted = field_views(schema("accept"))[0]
    assert accepted.widget == "radio"
    assert [(o.value, o.label) for o in accepted.options] == [("true", "是"), ("false", "否")]
    assert accepted.required


def test_only_the_forms_own_fields_are_prefilled_from_the_task_defaults():
    defaults = {"handling_level": "township", "department": "乡镇人民调解委员会",
                "applicant_id_number": "150207196505121234", "mediation_round": 0}

    assert display_values(schema("dispatch"), defaults) == {
        "handling_level": "township", "department": "乡镇人民调解委员会"}


def test_numbers_booleans_and_integers_arrive_as_json_types_and_empty_optional_fields_are_left_out():
    submitted = {"title": " 漏水 ", "people_count": "3", "amount": "1200.50", "occurred_on": "", "channel": "grid"}

    parsed = parse_submission(schema("intake"), submitted)

    assert parsed.data == {"title": "漏水", "people_count": 3, "amount": 1200.5, "channel": "grid"}
    assert parsed.errors == {}
    assert parse_submission(schema("accept"), {"accepted": "false"}).data == {"accepted": False}


def test_full_width_digits_typed_with_a_chinese_input_method_are_accepted():
    assert parse_submission(schema("intake"), {"people_count": "１２"}).data == {"people_count": 12}


def test_text_that_is_not_a_number_is_a_field_error_and_is_kept_for_correction():
    parsed = parse_submission(schema("intake"), {"people_count": "三个", "amount": "nan"})

    assert parsed.errors == {"people_count": "应为整数", "amount": "应为数字"}
    assert parsed.data == {}
    assert parsed.raw == {"people_count": "三个", "amount": "nan"}


def test_engine_errors_land_under_their_fields_and_a_parse_error_wins_over_required():
    per_field, general = split_errors(
        schema("intake"),
        [FieldError("title", "必填"), FieldError("amount", "必填"), FieldError("", "包含表单之外的字段：x")],
        {"amount": "应为数字"},
    )

    assert per_field == {"title": "必填", "amount": "应为数字"}
    assert general == ["包含表单之外的字段：x"]


def test_submitted_data_is_described_with_the_forms_labels_and_option_titles():
    rows = describe(schema("agreement"), {"apply_judicial_confirmation": False,
                                                    "agreement_terms": "赔偿3000元", "agreement_amount": 3000.0})

    assert rows == [("协议内容", "赔偿3000元"), ("协议金额(元)", "3000"), ("申请司法确认", "否")]
