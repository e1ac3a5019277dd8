"""Rules and storage: no request, no forms, no blueprints."""
