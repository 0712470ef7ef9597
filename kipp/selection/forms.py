"""Forms of the selection pages (nominees, plenary, final result). The services check the same rules
again; these put the message beside the field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from kipp.agencies.kinds import CLUSTER_LABELS, Cluster
from kipp.editions.kinds import PlacesMode
from kipp.selection.services import DECREE_MAX, MINUTES_MAX, REASON_MAX

PLACES_MODE_LABELS = {
    PlacesMode.PROPORTIONAL: _l("In proportion to the proposals that passed screening, per cluster"),
    PlacesMode.MANUAL: _l("Set by hand, per cluster"),
    PlacesMode.NONE: _l("No places per cluster: the plain ranking"),
}
_COUNT = [InputRequired(_l("Enter a whole number (0 or more).")),
          NumberRange(min=0, max=100_000, message=_l("Enter a whole number (0 or more)."))]


def place_field(cluster: Cluster) -> str:
    return f"places_{cluster.value}"


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class NomineeSettingsForm(FlaskForm):
    nominee_count = IntegerField(_l("Nominees"), validators=_COUNT,
                                 description=_l("About twice the finalist places (2023: 198 umum, 30 khusus)."))
    places_mode = SelectField(_l("Places per agency cluster"),
                              choices=[(m.value, label) for m, label in PLACES_MODE_LABELS.items()])
    min_3t = IntegerField(_l("At least this many from 3T regions"), validators=_COUNT,
                          description=_l("Daerah tertinggal, terdepan dan terluar; 0: no minimum."))
    places = HiddenField()  # where the service's message about the places' sum goes


for _cluster in Cluster:
    setattr(NomineeSettingsForm, place_field(_cluster),
            IntegerField(CLUSTER_LABELS[_cluster], default=0,
                         validators=[Optional(), NumberRange(min=0, max=100_000,
                                                             message=_l("Enter a whole number (0 or more)."))]))


class ChoiceForm(FlaskForm):
    """Take a candidate in (chosen = 1) or out (0); a departure from the proposal needs the reason."""

    chosen = HiddenField(validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=REASON_MAX)],
                         render_kw={"maxlength": REASON_MAX})


class ForcedBuildForm(FlaskForm):
    """The secretariat's build of the plenary's list while panel sheets are missing: the reason is required."""

    reason = TextAreaField(_l("Why build the list before every panel sheet is in"),
                           validators=[Optional(), Length(max=REASON_MAX)],
                           render_kw={"rows": 2, "maxlength": REASON_MAX})


class MinutesForm(FlaskForm):
    minutes = TextAreaField(_l("Minutes (berita acara)"), validators=[Optional(), Length(max=MINUTES_MAX)],
                            render_kw={"rows": 6})


class FreezeFinalForm(FlaskForm):
    decree_number = StringField(_l("Decree number (Kepmen)"), validators=[Optional(), Length(max=DECREE_MAX)],
                                render_kw={"maxlength": DECREE_MAX})
    decree_date = DateField(_l("Decree date"), validators=[Optional()])
    minutes = TextAreaField(_l("Minutes (berita acara)"), validators=[Optional(), Length(max=MINUTES_MAX)],
                            render_kw={"rows": 6})


class ChairForm(FlaskForm):
    member_id = SelectField(_l("Chair of the panel"), coerce=int, validate_choice=False)
