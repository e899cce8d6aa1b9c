"""Personal data on screen is masked (个人信息保护法): ID numbers keep region and last 4, phones 3 + 4."""
from web.masking import mask_data, mask_field, mask_id, mask_phone


def test_an_identity_card_number_keeps_its_region_code_and_last_four_characters():
    assert mask_id("110101199003071234") == "110101********1234"
    assert mask_id("11010119900307123X") == "110101********123X"


def test_a_short_document_number_shows_only_its_first_and_last_character():
    assert mask_id("E1234567") == "E******7"
    assert mask_id("AB") == "**"


def test_a_mobile_number_keeps_the_first_three_and_last_four_digits():
    assert mask_phone("13800138000") == "138****8000"


def test_a_landline_number_keeps_the_area_prefix_and_last_four_digits():
    assert mask_phone("0472-6123456") == "047*****3456"


def test_empty_values_stay_empty():
    assert mask_id(None) == ""
    assert mask_phone("") == ""


def test_fields_are_masked_by_what_their_name_says_they_hold():
    assert mask_field("respondent_id_number", "150207196505121234") == "150207********1234"
    assert mask_field("applicant_phone", "13912345678") == "139****5678"
    assert mask_field("applicant_name", "刘桂兰") == "刘桂兰"


def test_submitted_data_is_masked_field_by_field_without_changing_the_original():
    data = {"applicant_phone": "13800138000", "parties": [{"id_number": "150207196505121234"}], "amount": 3000}

    masked = mask_data(data)

    assert masked == {"applicant_phone": "138****8000", "parties": [{"id_number": "150207********1234"}],
                      "amount": 3000}
    assert data["applicant_phone"] == "13800138000"
