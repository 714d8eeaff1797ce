"""Deleting the directory an Azure DevOps organization is connected to (the tenant cannot be deleted while
Azure DevOps's enterprise application is in it; "can we delete the old Azure AD?"): the topic
`disconnect-first` (the contract: disconnect before deleting the old directory), recognised by its words, not
ranked. Ranked, such a report shares more words with disconnecting or a support request than with the topic's
"can I delete the old tenant after moving the organization" (two real threads went to the wrong topic); more
phrasings would move every weight and the calibration's refit (docs/faq-eval.md, rounds 28, 30 and 31).

Deleting a directory is a question about Azure DevOps only when the message names it: public threads about
deleting a lab's tenant name only the directory, and stay the ranker's (where they are declined). A bare
"directory" is a folder as often as a tenant ("delete a directory in my repo"): only a qualified one counts
(the old, Azure or company directory), and nothing in a message about code, files or pipelines. A
deletion already done ("we deleted the old tenant by accident") asks nothing about what to do first: the
ranker's too.

Deleting the organization itself ("how do I delete my organization?") is no step of the move and no topic's:
the ranker reads its "delete" as the stale users' ("should we delete former employees first"). Asked how to
do it, it is declined with its closest topics (`asks_how_to_delete_the_organization`). Only asked how: a
worry about the move ("will connecting to Entra ID delete my organization?", "do we have to delete the old
organization after moving?") is the move's question and stays the ranker's (review rev83)."""

from __future__ import annotations

import re

from faq._reading import Reading

TOPIC = "disconnect-first"

_NAMED = r"(?:tenants?|azure ad|aad|azure active directory|entra(?: id)?)"
"""The directory by a name that means nothing else."""
_QUALIFIED = r"(?:old|previous|former|original|azure|entra(?: id)?|company|corporate)\s+director(?:y|ies)"
"""A directory that is not a folder: the old one, or Azure's."""
_DIRECTORY = rf"(?:{_NAMED}|{_QUALIFIED})"
# The directory itself deleted, not something in it ("delete a user from Azure AD", "delete the tenant's
# groups", "a tenant-level policy"): a verb of deleting (not done yet), a few determiners, the directory; or
# the directory that cannot be deleted.
_DELETING_IT = re.compile(
    r"(?i)\bdelet(?:e|es|ing|ion of)\s+"
    r"(?:(?:the|our|my|this|that|an?|old|previous|former|existing|whole|entire|original)\s+){0,3}"
    rf"(?:azure\s+)?{_DIRECTORY}\b(?!['\u2019]s|-|\s+(?:users?|groups?|apps?|applications?|accounts?|objects?"
    r"|members?|guests?|roles?|domains?|polic(?:y|ies)|settings?|level))"
    rf"|\b{_DIRECTORY}\s+(?:can(?:no|['\u2019])?t|cannot|could(?:n['\u2019]t| not)|won['\u2019]t|will not"
    r"|is not|isn['\u2019]t)\s+be\s+deleted\b"
)
_AZURE_DEVOPS = re.compile(
    r"(?i)\b(?:azure ?)?devops\b|\bvsts\b|visual studio team services|dev\.azure\.com|visualstudio\.com"
)
_FILES = re.compile(
    r"(?i)\b(?:repos?|repositor(?:y|ies)|git|pipelines?|agents?|folders?|files?|checkout|builds?|yaml)\b"
)
"""Code, files or pipelines: where a directory is a folder."""
# How to delete the organization itself: "how do I / how to / I want to / steps to" and a verb of deleting,
# a few determiners, the organization; not something in it or of it ("delete users from the organization",
# "the organization's old directory", "the org connection"), nor taken out of a directory ("delete the
# organization from Azure AD" is disconnecting it, a topic).
_HOW_TO_DELETE_THE_ORGANIZATION = re.compile(
    r"(?i)(?:\bhow\s+(?:(?:do|can|could|would|should|does|did)\s+(?:i|we|one|you|someone|an\s+admin)\s+"
    r"(?:go\s+about\s+|actually\s+)?|to\s+|is\s+it\s+possible\s+to\s+)"
    r"|\b(?:i|we)\s*(?:'d|\s+would)?\s+(?:want|need|like|wish|intend|plan)\s+to\s+"
    r"|\b(?:steps?|way|instructions|option|button|where)\s+(?:(?:is|are)\s+)?(?:do\s+i\s+|can\s+i\s+)?to\s+"
    r"|\bwhere\s+(?:do|can)\s+(?:i|we)\s+|^\W*(?:please\s+)?)"
    r"(?:permanently\s+|completely\s+)?delete\s+"
    r"(?:(?:the|our|my|this|that|an?|old|previous|former|existing|whole|entire|empty|new|unused|test)\s+){0,3}"
    r"(?:(?:azure\s+)?devops\s+|ado\s+|vsts\s+)?(?:organi[sz]ations?|orgs?)\b"
    r"(?!['\u2019]s|-|\s+(?:from|users?|members?|groups?|projects?|repos?|connections?|settings?"
    r"|polic(?:y|ies)|admins?|owners?|level)\b)"
)


def asks_about_deleting_its_directory(reading: Reading) -> bool:
    """Whether the message is about deleting the directory its Azure DevOps organization is connected to:
    it names Azure DevOps, and says it deletes (or cannot delete) the directory where it asks, in its first
    sentence (a thread's title), or anywhere when it asks nothing (a report of what failed). A story that
    mentions the deletion on the way and asks something else is the ranker's."""
    if _AZURE_DEVOPS.search(reading.text) is None or _FILES.search(reading.text) is not None:
        return False
    where = (*reading.sentences[:1], *reading.asked) if reading.asked else reading.sentences
    return any(_DELETING_IT.search(sentence) for sentence in where)


def asks_how_to_delete_the_organization(reading: Reading) -> bool:
    """Whether the message asks how to delete the Azure DevOps organization itself, where it asks or in its
    first sentence (a thread's title), as `asks_about_deleting_its_directory` reads it."""
    where = (*reading.sentences[:1], *reading.asked) if reading.asked else reading.sentences
    return any(_HOW_TO_DELETE_THE_ORGANIZATION.search(sentence) for sentence in where)
