"""Pilot dossiers (issue 18): per theme, for advisors, the rules to relax, existing experiment
provisions and the schools volunteering for a pilot."""
