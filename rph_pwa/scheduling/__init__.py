"""Background jobs, run by one dedicated process: `flask --app rph_pwa scheduler`."""
