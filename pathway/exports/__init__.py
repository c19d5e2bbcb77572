"""Exports of the pathway record: FHIR R4B bundles, the registry file and the NICE audit report.

Import the submodules directly (`pathway.exports.fhir`, `.registry`, `.audit_report`): fhir.resources
is slow to import, so nothing here loads it until a FHIR export is asked for.
"""
