"""Parse free-text CRM job titles into seniority and department (the BANT "Authority" signal).

A title is lower-cased, split into word tokens, abbreviations are expanded
(``ABBREVIATIONS``), tokens of five or more letters that are not known words are
fuzzy-corrected to the nearest known word (edit distance 1, or 2 for tokens of
eight or more letters), and multi-word phrases are merged into one token
(``PHRASES``, e.g. "vice president" -> ``vp``). The tokens are then looked up in
``ROLES`` (token -> seniority) and ``DEPARTMENT_KEYWORDS`` (token -> department).

Seniority precedence, first rule that applies wins:

1. An intern/student token ("Marketing Intern", "Intern, Office of the CEO").
2. A demoter ("Assistant to the ...", "Executive Assistant"): the person supports
   the boss, so they are ``individual`` whatever boss title follows.
3. The most senior role token, c_level > vp > director > head > manager >
   individual ("Chief ... Officer" beats "manager"). Weak roles ("partner",
   "owner") count only when no other role is present ("Partner Manager"), and
   after a department word they name an individual job ("Sales Partner").
4. No role token: ``unknown``.

Department precedence: the department implied by the deciding role token (a
functional one such as CTO's before "executive", so "Founder & CTO" is
it_engineering), else the leftmost department keyword ("Sales Engineer" is
sales), else ``other``.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd

SENIORITIES = (
    "c_level", "vp", "director", "head", "manager", "individual", "student_intern", "unknown",
)  # fmt: skip
DEPARTMENTS = (
    "sales", "marketing", "it_engineering", "finance", "operations", "hr", "executive", "other",
)  # fmt: skip
UNKNOWN_TITLE = ("unknown", "other")

ABBREVIATIONS: dict[str, str] = {
    "sr": "senior", "snr": "senior", "jr": "junior", "mgr": "manager", "mngr": "manager",
    "mgmt": "management", "dir": "director", "svp": "vp", "evp": "vp", "avp": "vp",
    "pres": "president", "cofounder": "founder", "md": "managing_director",
    "gm": "general_manager", "ae": "account_executive", "bdr": "sdr",
    "bdm": "business development manager", "exec": "executive", "asst": "assistant",
    "assoc": "associate", "admin": "administrator", "eng": "engineering", "engr": "engineer",
    "dev": "developer", "swe": "software engineer", "sde": "software engineer",
    "mktg": "marketing", "mkt": "marketing", "ops": "operations", "biz": "business",
    "acct": "account", "fin": "finance", "tech": "technology", "ea": "executive assistant",
}  # fmt: skip

# Multi-word phrases merged into one token, before roles and departments are looked up.
PHRASES: dict[tuple[str, ...], str] = {
    tuple(phrase.split()): token
    for phrase, token in {
        "vice president": "vp", "managing director": "managing_director",
        "general manager": "general_manager", "executive director": "executive_director",
        "chief executive": "ceo", "chief of staff": "chief_of_staff", "c level": "chief",
        "c suite": "chief", "co founder": "founder", "business development": "bizdev",
        "business developer": "bizdev", "account executive": "account_executive",
        "account manager": "account_manager", "executive assistant": "executive_assistant",
        "personal assistant": "executive_assistant", "assistant to": "assistant_to",
        "administrative assistant": "executive_assistant", "secretary to": "assistant_to",
        "team lead": "team_lead", "team leader": "team_lead", "product owner": "product_owner",
        "business partner": "business_partner", "supply chain": "supply_chain",
        "demand generation": "demand_gen", "demand gen": "demand_gen", "human resources": "hr",
        "people operations": "hr", "information technology": "it",
    }.items()
}  # fmt: skip

# Role token -> seniority, by level. Modifiers (senior, lead, principal, ...) are not roles.
ROLES: dict[str, str] = {
    token: seniority
    for seniority, tokens in {
        "c_level": "chief ceo founder owner president managing_director partner cto cio ciso cdo "
        "cfo coo cmo cro chro cpo cso cco",
        "vp": "vp general_manager",
        "director": "director executive_director chief_of_staff",
        "head": "head",
        "manager": "manager supervisor team_lead controller",
        "student_intern": "intern internship student trainee apprentice",
        "individual": "engineer developer programmer analyst scientist architect designer "
        "administrator consultant specialist coordinator representative rep associate officer "
        "executive assistant secretary receptionist clerk technician agent advisor strategist "
        "writer buyer planner generalist member accountant bookkeeper recruiter salesperson "
        "salesman account_executive account_manager sdr product_owner business_partner "
        "executive_assistant assistant_to",
    }.items()
    for token in tokens.split()
}  # fmt: skip
# "Assistant to the CEO" supports the boss: individual, whatever boss title follows.
DEMOTERS = frozenset({"executive_assistant", "assistant_to"})
# Weak role -> the individual job noun it is after a department word ("Talent Partner").
WEAK_ROLES = {"partner": "business_partner", "owner": "product_owner"}

_DEPARTMENT_WORDS = {
    "sales": "sales sale selling bizdev revenue commercial cro account_executive "
    "account_manager sdr salesperson salesman",
    "marketing": "marketing marketer growth demand_gen brand branding communications content "
    "seo advertising campaign campaigns cmo",
    "it_engineering": "it engineering engineer technology technical software developer "
    "programmer data devops infrastructure systems network cloud security information qa "
    "analytics cto cio ciso cdo",
    "finance": "finance financial accounting treasury tax audit controller cfo accountant "
    "bookkeeper",
    "operations": "operations operating operational supply_chain logistics procurement "
    "purchasing fulfillment warehouse coo",
    "hr": "hr people talent recruiting recruitment personnel chro recruiter",
    "executive": "ceo founder president managing_director general_manager "
    "executive_director chief_of_staff",
}  # fmt: skip
# Token -> department. A deciding role token found here also sets the department
# ("Technical Recruiter" is hr), except discipline nouns ("Sales Engineer" is sales).
DEPARTMENT_KEYWORDS = {t: d for d, words in _DEPARTMENT_WORDS.items() for t in words.split()}
DISCIPLINE_NOUNS = frozenset({"engineer", "developer", "programmer"})
# Weak roles set the department only when they decide the seniority ("Managing Partner").
_ROLE_DEPARTMENTS = {
    **{t: d for t, d in DEPARTMENT_KEYWORDS.items() if t in ROLES and t not in DISCIPLINE_NOUNS},
    **dict.fromkeys(WEAK_ROLES, "executive"),
}

# Common title words that are not signals; listed so fuzzy matching leaves them alone
# ("office" must not become "officer", "resident" must not become "president").
_PLAIN_WORDS = frozenset({
    "office", "resident", "service", "services", "support", "success", "customer", "client",
    "product", "project", "program", "global", "regional", "national", "senior", "junior",
    "principal", "leader", "lead", "staff", "business", "management", "managing", "general",
    "graduate", "executive", "partners", "solutions", "strategy", "research", "legal",
})  # fmt: skip
_VOCABULARY = {*ROLES, *DEPARTMENT_KEYWORDS, *(w for p in PHRASES for w in p), *_PLAIN_WORDS}
_KNOWN_WORDS = frozenset(_VOCABULARY) | frozenset(ABBREVIATIONS)
_ACRONYM_DOTS = re.compile(r"\b([a-z])\.(?=[a-z]\b)")  # "v.p." -> "vp."
_NON_WORD = re.compile(r"[\W_]+")
_SENIORITY_RANKS = {"c_level": 6.0, "vp": 5.0, "director": 4.0, "head": 3.0, "manager": 2.0,
                    "individual": 1.0, "student_intern": 0.0, "unknown": float("nan")}  # fmt: skip


def _deletions(word: str, depth: int) -> set[str]:
    """Return the word and every string made by deleting up to ``depth`` of its letters."""
    found = {word}
    for _ in range(depth):
        found |= {w[:i] + w[i + 1 :] for w in found for i in range(len(w))}
    return found


def _build_deletion_index() -> dict[str, tuple[str, ...]]:
    """Map each 0-2 letter deletion of a vocabulary word to the words it comes from."""
    index: dict[str, set[str]] = {}
    for word in _VOCABULARY:
        if len(word) >= 4 and word.isalpha():
            for deleted in _deletions(word, 2):
                index.setdefault(deleted, set()).add(word)
    return {deleted: tuple(sorted(words)) for deleted, words in index.items()}


# Symmetric-deletion lookup: two words within edit distance k share a string reachable
# by at most k deletions from each, so only those candidates need an exact distance.
_DELETION_INDEX = _build_deletion_index()


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance where swapping two adjacent letters also costs 1 (OSA)."""
    before_prev: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            d = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                d = min(d, before_prev[j - 2] + 1)
            cur.append(d)
        before_prev, prev = prev, cur
    return prev[-1]


@functools.lru_cache(maxsize=65536)
def _correct_token(token: str) -> str:
    """Return the closest known word for a misspelt token, or the token unchanged."""
    if len(token) < 5 or token in _KNOWN_WORDS or not token.isalpha():
        return token
    limit = 1 if len(token) <= 7 else 2
    candidates = {w for d in _deletions(token, limit) for w in _DELETION_INDEX.get(d, ())}
    scored = ((_edit_distance(token, word), word) for word in candidates)
    distance, word = min(scored, default=(limit + 1, token))
    return word if distance <= limit else token


def _tokenise(title: str) -> list[str]:
    """Normalise a title into corrected tokens with multi-word phrases merged."""
    text = _NON_WORD.sub(" ", _ACRONYM_DOTS.sub(r"\1", title.lower()))
    words = [
        _correct_token(part) for raw in text.split() for part in ABBREVIATIONS.get(raw, raw).split()
    ]
    tokens: list[str] = []
    i = 0
    while i < len(words):
        size = next((n for n in (3, 2) if tuple(words[i : i + n]) in PHRASES), 1)
        tokens.append(PHRASES[tuple(words[i : i + size])] if size > 1 else words[i])
        i += size
    return tokens


def _role_tokens(tokens: list[str]) -> list[str]:
    """Return the role tokens in title order, weak roles after a department word demoted."""
    roles = []
    for i, token in enumerate(tokens):
        if token in WEAK_ROLES and any(t in DEPARTMENT_KEYWORDS for t in tokens[:i]):
            token = WEAK_ROLES[token]
        if token in ROLES:
            roles.append(token)
    return roles


def _deciding_roles(roles: list[str]) -> list[str]:
    """Pick the role tokens that set the seniority, following the module's precedence."""
    interns = [r for r in roles if ROLES[r] == "student_intern"]
    demoters = [r for r in roles if r in DEMOTERS]
    if interns or demoters:
        return interns or demoters
    strong = [r for r in roles if r not in WEAK_ROLES] or roles
    top = min((ROLES[r] for r in strong), key=SENIORITIES.index, default=None)
    return [r for r in strong if ROLES[r] == top]


def parse_job_title(title: str | None) -> tuple[str, str]:
    """Parse one free-text job title into seniority and department.

    Args:
        title: The job title as typed into the CRM; None, NaN or blank are allowed.

    Returns:
        ``(seniority, department)``, values from ``SENIORITIES`` and ``DEPARTMENTS``;
        ``("unknown", "other")`` for a missing or unrecognised title.

    Example:
        >>> parse_job_title("Sr. mgr, marketing")
        ('manager', 'marketing')
    """
    if not isinstance(title, str):
        return UNKNOWN_TITLE
    tokens = _tokenise(title)
    deciding = _deciding_roles(_role_tokens(tokens))
    seniority = ROLES[deciding[0]] if deciding else "unknown"
    implied = sorted(
        (_ROLE_DEPARTMENTS[r] for r in deciding if r in _ROLE_DEPARTMENTS),
        key=lambda d: d == "executive",  # a functional department first: "Founder & CTO"
    )
    keywords = (DEPARTMENT_KEYWORDS[t] for t in tokens if t in DEPARTMENT_KEYWORDS)
    department = implied[0] if implied else next(keywords, "other")
    return seniority, department


def parse_job_titles(titles: pd.Series) -> pd.DataFrame:
    """Parse a column of job titles, parsing each distinct title only once.

    Args:
        titles: Job titles; missing values are allowed.

    Returns:
        A frame with the same index and categorical columns ``seniority`` (categories
        ``SENIORITIES``) and ``department`` (categories ``DEPARTMENTS``).
    """
    codes, uniques = pd.factorize(titles, use_na_sentinel=True)
    # The missing-title result goes last, so the NA code -1 indexes it.
    parsed = [*(parse_job_title(t) for t in uniques), UNKNOWN_TITLE]
    columns = {}
    for position, (name, levels) in enumerate(
        (("seniority", SENIORITIES), ("department", DEPARTMENTS))
    ):
        level_codes = np.array([levels.index(p[position]) for p in parsed], dtype=np.intp)
        columns[name] = pd.Categorical.from_codes(
            level_codes[codes], dtype=pd.CategoricalDtype(list(levels))
        )
    return pd.DataFrame(columns, index=titles.index)


def seniority_rank(seniority: str) -> float:
    """Map a seniority to an ordinal number, c_level 6 down to student_intern 0.

    Args:
        seniority: A value from ``SENIORITIES``.

    Returns:
        The rank as a float; NaN for ``"unknown"``.

    Raises:
        ValueError: If ``seniority`` is not one of ``SENIORITIES``.
    """
    if seniority not in _SENIORITY_RANKS:
        raise ValueError(f"unknown seniority {seniority!r}; expected one of {SENIORITIES}")
    return _SENIORITY_RANKS[seniority]
