"""The describe payloads: ``sobjects`` (describeGlobal), ``sobjects/{T}`` and ``sobjects/{T}/describe``.

Each field carries the attributes real clients read (tap-salesforce, simple-salesforce users,
jsforce), with the values a Developer Edition org returns for such a field.
"""

from __future__ import annotations

import base64
from typing import Any

from .schema import ID_TYPES, STATES, Field, SObject

SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "datetime": "xsd:dateTime",
              "date": "xsd:date", "int": "xsd:int", "double": "xsd:double"}
LAYOUTABLE = {"Account", "Campaign", "CampaignMember", "Contact", "Lead", "User"}


def _valid_for(state: str, controller: Field) -> str:
    """The ``validFor`` bitmap of a dependent value: bit i set when controller value i allows it."""
    bits = bytearray((len(controller.picklist) + 7) // 8)
    for index, (country, _) in enumerate(controller.picklist):
        if any(code == state for code, _ in STATES.get(country, ())):
            bits[index // 8] |= 0x80 >> (index % 8)
    return base64.b64encode(bytes(bits)).decode()


def picklist_values(sobject: SObject, field: Field, values: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    controller = sobject.field(field.controller) if field.controller else None
    return [{"active": True, "defaultValue": value == field.default, "label": label,
             "validFor": _valid_for(value, controller) if controller else None, "value": value}
            for value, label in values]


def describe_field(sobject: SObject, field: Field, values: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """One entry of ``fields`` in a describe."""
    text = field.type not in SOAP_TYPES
    long_text = field.type == "textarea" and field.length > 255
    return {
        "aggregatable": not long_text, "aiPredictionField": False, "autoNumber": False,
        "byteLength": field.length * 3 if text else (18 if field.type in ID_TYPES else 0),
        "calculated": False, "calculatedFormula": None, "cascadeDelete": False,
        "caseSensitive": False, "compoundFieldName": None,
        "controllerName": field.controller, "createable": field.createable, "custom": field.custom,
        "defaultValue": field.default if field.type == "boolean" else None, "defaultValueFormula": None,
        "defaultedOnCreate": field.defaulted_on_create, "dependentPicklist": field.controller is not None,
        "deprecatedAndHidden": False, "digits": 9 if field.type == "int" else 0,
        "displayLocationInDecimal": False, "encrypted": False, "externalId": field.external_id,
        "extraTypeInfo": None, "filterable": not long_text, "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": field.type not in ("datetime", "double") and not long_text,
        "highScaleNumber": False, "htmlFormatted": False,
        "idLookup": field.name == "Id" or field.external_id or field.type == "email" or field.name == "Name",
        "inlineHelpText": None, "label": field.label, "length": field.length if text or field.type in ID_TYPES else 0,
        "mask": None, "maskType": None, "name": field.name,
        "nameField": field.name == "Name", "namePointing": False, "nillable": field.nillable,
        "permissionable": field.nillable and field.updateable, "picklistValues": picklist_values(sobject, field, values),
        "polymorphicForeignKey": False, "precision": 0, "queryByDistance": False,
        "referenceTargetField": None, "referenceTo": list(field.reference_to),
        "relationshipName": field.relationship_name, "relationshipOrder": None,
        "restrictedDelete": False, "restrictedPicklist": field.restricted, "scale": 0,
        "searchPrefilterable": False, "soapType": SOAP_TYPES.get(field.type, "xsd:string"),
        "sortable": not long_text, "type": field.type, "unique": field.unique,
        "updateable": field.updateable, "writeRequiresMasterRead": False,
    }


def _urls(sobject: SObject, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{sobject.name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def sobject_summary(sobject: SObject, version: str) -> dict[str, Any]:
    """One entry of the ``sobjects`` list (describeGlobal)."""
    return {
        "activateable": False, "associateEntityType": None, "associateParentEntity": None,
        "createable": sobject.createable, "custom": False, "customSetting": False,
        "deepCloneable": False, "deletable": sobject.deletable, "deprecatedAndHidden": False,
        "feedEnabled": False, "hasSubtypes": False, "isInterface": False, "isSubtype": False,
        "keyPrefix": sobject.key_prefix, "label": sobject.label, "labelPlural": sobject.label_plural,
        "layoutable": sobject.name in LAYOUTABLE, "mergeable": sobject.name in ("Account", "Contact", "Lead"),
        "mruEnabled": True, "name": sobject.name, "queryable": True, "replicateable": True,
        "retrieveable": True, "searchable": sobject.name != "CampaignMemberStatus", "triggerable": True,
        "undeletable": sobject.deletable, "updateable": True, "urls": _urls(sobject, version),
    }


def describe_payload(sobject: SObject, version: str, member_statuses: tuple[str, ...]) -> dict[str, Any]:
    """The ``sobjects/{T}/describe`` body; CampaignMember.Status lists the org's status labels."""
    def values(field: Field) -> tuple[tuple[str, str], ...]:
        if (sobject.name, field.name) == ("CampaignMember", "Status"):
            return tuple((label, label) for label in member_statuses)
        return field.picklist

    return {
        **sobject_summary(sobject, version),
        "childRelationships": [], "compactLayoutable": True, "defaultImplementation": None,
        "extendedBy": None, "extendsInterfaces": None, "implementedBy": None, "implementsInterfaces": None,
        "listviewable": None, "lookupLayoutable": None, "networkScopeFieldName": None,
        "recordTypeInfos": [], "searchLayoutable": True, "sobjectDescribeOption": "FULL",
        "supportedScopes": [{"label": "All " + sobject.label_plural.lower(), "name": "everything"}],
        "fields": [describe_field(sobject, f, values(f)) for f in sobject.fields],
    }
