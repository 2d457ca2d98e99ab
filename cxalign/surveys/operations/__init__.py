"""What a CX leader does with a survey wave, one module per activity.

* ``lifecycle``: create, configure, open, close, reopen, delete a draft.
* ``respondents`` and ``links``: who is asked, their personal links, open links.
* ``messages``: invitations and reminders.
* ``status``: response rates and who is pending.
* ``rules``: the limits all of them share, and :class:`SurveyError`.

Views, the CLI and tests call these functions; none reads request state. They add and
flush rows but never commit: the caller decides when a unit of work is done.

The rules, in one place:

* Status moves only by explicit actions: ``draft → open → closed``, and a closed survey
  may be reopened (while its personal data has not been purged). A closed survey accepts
  no answers, respondents or messages, and keeps every answer it has.
* Once a survey has opened, its instrument and opening date are fixed, and promises made
  to respondents can only get stronger: anonymity thresholds may be raised, never lowered,
  and "anonymous to staff" may be switched on, never off.
* Personal links carry a token derived from a random nonce (see ``Respondent.issue_token``);
  only the token's hash is stored. Open links store only their token's hash too.
* Reminders go only to invited respondents who have not completed, have an email address,
  and have not been contacted within the survey's reminder cooldown.
"""

from cxalign.surveys.operations.lifecycle import (
    SurveySettings,
    check_instrument,
    close_survey,
    create_survey,
    delete_draft_survey,
    executives_may_be_attributable,
    instrument_choices,
    locked_settings,
    open_problems,
    open_survey,
    past_closing_date,
    refuse_if_closed,
    refuse_if_past_closing_date,
    reopen_survey,
    settings_of,
    settings_problems,
    update_settings,
)
from cxalign.surveys.operations.links import (
    active_open_link,
    create_open_link,
    find_open_link,
    find_respondent_by_token,
    join_open_link,
    open_link_url,
    personal_link_url,
    public_url,
    respondent_link,
    revoke_open_link,
)
from cxalign.surveys.operations.messages import (
    MESSAGE_INVITATION,
    MESSAGE_REMINDER,
    ReminderPlan,
    compose_message,
    failed_messages_since,
    reminder_plan,
    send_invitations,
    send_reminders,
    uninvited_respondents,
)
from cxalign.surveys.operations.respondents import (
    RespondentImportError,
    RespondentRow,
    add_respondent_without_email,
    add_respondents,
    decode_upload,
    erase_respondent,
    issue_new_link,
    normalise_group,
    normalise_respondent_email,
    parse_respondent_csv,
    parse_respondent_lines,
    require_group,
    respondent_label,
    revoke_respondent,
)
from cxalign.surveys.operations.rules import (
    ATTRIBUTABLE_BELOW,
    MAX_ANONYMITY,
    MAX_COOLDOWN_HOURS,
    MAX_GAP_THRESHOLD,
    MAX_IMPORT_ROWS,
    MIN_ANONYMITY,
    MIN_COOLDOWN_HOURS,
    MIN_GAP_THRESHOLD,
    SurveyError,
    secret_key,
    survey_target,
)
from cxalign.surveys.operations.status import (
    GroupStatus,
    PendingRespondent,
    SurveyStatusReport,
    days_left,
    percent,
    response_counts,
    survey_status,
)

__all__ = [
    "ATTRIBUTABLE_BELOW",
    "MAX_ANONYMITY",
    "MAX_COOLDOWN_HOURS",
    "MAX_GAP_THRESHOLD",
    "MAX_IMPORT_ROWS",
    "MESSAGE_INVITATION",
    "MESSAGE_REMINDER",
    "MIN_ANONYMITY",
    "MIN_COOLDOWN_HOURS",
    "MIN_GAP_THRESHOLD",
    "GroupStatus",
    "PendingRespondent",
    "ReminderPlan",
    "RespondentImportError",
    "RespondentRow",
    "SurveyError",
    "SurveySettings",
    "SurveyStatusReport",
    "active_open_link",
    "add_respondent_without_email",
    "add_respondents",
    "check_instrument",
    "close_survey",
    "compose_message",
    "create_open_link",
    "create_survey",
    "days_left",
    "decode_upload",
    "delete_draft_survey",
    "erase_respondent",
    "executives_may_be_attributable",
    "failed_messages_since",
    "find_open_link",
    "find_respondent_by_token",
    "instrument_choices",
    "issue_new_link",
    "join_open_link",
    "locked_settings",
    "normalise_group",
    "normalise_respondent_email",
    "open_link_url",
    "open_problems",
    "open_survey",
    "parse_respondent_csv",
    "parse_respondent_lines",
    "past_closing_date",
    "percent",
    "personal_link_url",
    "public_url",
    "refuse_if_closed",
    "refuse_if_past_closing_date",
    "reminder_plan",
    "reopen_survey",
    "require_group",
    "respondent_label",
    "respondent_link",
    "response_counts",
    "revoke_open_link",
    "revoke_respondent",
    "secret_key",
    "send_invitations",
    "send_reminders",
    "settings_of",
    "settings_problems",
    "survey_status",
    "survey_target",
    "uninvited_respondents",
    "update_settings",
]
