"""The parts a kiosk is made of, each with its own state, rules and view.

``kiosk.core.kiosk.Kiosk`` composes the parts its role needs: a housing kiosk signs residents in
and holds their visits; a lobby station checks visitors in and holds theirs; every kiosk has
health, technician mode and staff commands. The rules each part applies live beside this folder
(``kiosk/core/*.py``); a part directs them.
"""
