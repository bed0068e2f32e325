"""The headless kiosk: state, rules and time. Never imports Kivy."""
