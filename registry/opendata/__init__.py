"""Open-data metadata that catalogues and data tools harvest (issue 21).

- ``/api/v1/catalog``: a DCAT-AP-DONL 1.1 catalogue (JSON-LD) of the public datasets and
  their distributions, for data.overheid.nl and other DCAT harvesters;
- ``/export/datapackage.json``: a Frictionless Data Package of the CSV exports, with a Table
  Schema per file read from the data dictionary (``registry.exports.services.datasets``).

Both describe what exists elsewhere (exports, API, snapshots) and never hold personal data.
"""
