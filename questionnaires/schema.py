"""JSON Schema of a questionnaire definition file."""

CODE = {"type": "string", "pattern": "^[A-Z][A-Z0-9_]{0,31}$"}

TEXT = {
    "type": "object",
    "required": ["vi", "en"],
    "properties": {
        "vi": {"type": "string", "minLength": 1},
        "en": {"type": "string", "minLength": 1},
    },
    "additionalProperties": False,
}

OPTION = {
    "type": "object",
    "required": ["value", "label"],
    "properties": {"value": {"type": "integer"}, "label": TEXT},
    "additionalProperties": False,
}

ITEM = {
    "type": "object",
    "required": ["code", "text"],
    "properties": {"code": CODE, "text": TEXT},
    "additionalProperties": False,
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "version", "title", "scales", "elements", "index"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,31}$"},
        "version": {"type": "integer", "minimum": 1},
        "title": TEXT,
        "intro": TEXT,
        "scales": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "values", "satisfied"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                    "values": {"type": "array", "minItems": 2, "items": OPTION},
                    "satisfied": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "integer"},
                    },
                },
            },
        },
        "elements": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["code", "title", "scale", "criteria"],
                "additionalProperties": False,
                "properties": {
                    "code": CODE,
                    "title": TEXT,
                    "note": TEXT,
                    "scale": {"type": "string"},
                    "criteria": {"type": "array", "minItems": 1, "items": ITEM},
                },
            },
        },
        "priorities": {
            "type": "object",
            "required": ["title", "scale", "items"],
            "additionalProperties": False,
            "properties": {
                "title": TEXT,
                "scale": {"type": "string"},
                "items": {"type": "array", "minItems": 1, "items": ITEM},
            },
        },
        "background": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "text", "options"],
                "additionalProperties": False,
                "properties": {
                    "code": CODE,
                    "text": TEXT,
                    "options": {"type": "array", "minItems": 2, "items": OPTION},
                },
            },
        },
        "comment": {
            "type": "object",
            "required": ["text", "max_length"],
            "additionalProperties": False,
            "properties": {
                "text": TEXT,
                "max_length": {"type": "integer", "minimum": 1, "maximum": 5000},
            },
        },
        "index": {
            "type": "object",
            "required": ["criterion", "element", "overall"],
            "additionalProperties": False,
            "properties": {
                "criterion": {"enum": ["share_satisfied"]},
                "element": {"enum": ["mean_of_criteria"]},
                "overall": {"enum": ["mean_of_elements"]},
                "priority": {"enum": ["share_high"]},
                "min_n": {"type": "integer", "minimum": 1},
                "confidence": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            },
        },
    },
}
