"""The words on buttons and titles, in the reader's language: screens translate nothing."""

from __future__ import annotations

from dataclasses import dataclass, fields

from kiosk.core.i18n import Language, _

_ENGLISH = {
    "back": _("Back"),
    "delete": _("Delete"),
    "sign_out": _("Sign out"),
    "messages": _("Messages"),
    "new_message": _("New message"),
    "reply": _("Reply"),
    "send": _("Send"),
    "write_to": _("Who do you want to write to?"),
    "no_contacts": _("Nobody has written to you yet. You can reply once someone does."),
    "still_there": _("Are you still there?"),
    "still_here": _("I'm still here"),
    "sign_out_now": _("Sign out now"),
    "photos": _("Photos"),
    "close": _("Close"),
    "zoom_in": _("Zoom in"),
    "zoom_out": _("Zoom out"),
    "larger_text": _("Larger text"),
    "contrast": _("Contrast"),
    "shift": _("Shift"),
    "space": _("Space"),
    "new_line": _("New line"),
    "symbols": _("123"),
    "letters": _("ABC"),
    "hang_up": _("Hang up"),
    "hang_up_sure": _("End your visit now?"),
    "keep_talking": _("No, keep talking"),
    "end_visit": _("Yes, end the visit"),
    "start_over": _("Start over"),
    "confirmation_code": _("Confirmation code"),
    "last_name": _("Last name"),
    "take_picture": _("Take picture"),
    "accept": _("Accept"),
    "retake": _("Retake"),
    "submit": _("Submit"),
}


@dataclass(frozen=True)
class Words:
    back: str
    delete: str
    sign_out: str
    messages: str
    new_message: str
    reply: str
    send: str
    write_to: str
    no_contacts: str
    still_there: str
    still_here: str
    sign_out_now: str
    photos: str
    close: str
    zoom_in: str
    zoom_out: str
    larger_text: str
    contrast: str
    shift: str
    space: str
    new_line: str
    symbols: str
    letters: str
    hang_up: str
    hang_up_sure: str
    keep_talking: str
    end_visit: str
    start_over: str
    confirmation_code: str
    last_name: str
    take_picture: str
    accept: str
    retake: str
    submit: str

    @classmethod
    def of(cls, language: Language) -> Words:
        return cls(**{f.name: language.text(_ENGLISH[f.name]) for f in fields(cls)})
