"""Masking of personal data on screen: the rules live in `engine.masking`, shared with the documents."""
from engine.masking import mask_data, mask_field, mask_id, mask_phone, mask_text

__all__ = ["mask_data", "mask_field", "mask_id", "mask_phone", "mask_text"]
