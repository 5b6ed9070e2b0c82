"""Presentation for the staff pages, one module per page (triage, referral, episode, reach) and
`common` for what several pages show: stable keys turned into translated labels and data shaped
for the templates, so templates decide nothing. Coded values' labels live in rph_pwa/codes.py."""
