"""The synthetic CRM written the way real CRMs export it, so the shipped mappings are tested.

``to_dialect(crm, "salesforce")`` turns the contract tables of
:func:`pipelines.synthetic.generate_crm` into a Salesforce export (``Lead.csv`` with API
field names and picklist labels, ``Task.csv`` activities, ``LeadHistory.csv`` status
changes); ``"hubspot"`` into a HubSpot one (``contacts.csv`` with property labels,
``activities.csv``, and the lead-status property history in the shape warehouse syncs give
it); ``"flat"`` into one table with a ``Converted`` label and no history, as in many CRM
exports; ``"opportunities"`` into an opportunities table with a separate accounts file
(:mod:`pipelines.synthetic.opportunities`). Mapped back with ``configs/mappings/<dialect>.yaml``, the Salesforce and HubSpot
exports give the native tables again, up to the precision the CRM writes (milliseconds;
seconds in HubSpot's contacts export; a date for ``ConvertedDate``) and the names of levels.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from pipelines.synthetic.opportunities import to_opportunities
from pipelines.synthetic.vocabulary import COUNTRY_NAMES

DIALECTS = ("salesforce", "hubspot", "flat", "opportunities")
EXPORT_FILES = {  # contract table → file name
    "salesforce": {
        "leads": "Lead.csv",
        "activities": "Task.csv",
        "stage_history": "LeadHistory.csv",
    },
    "hubspot": {
        "leads": "contacts.csv",
        "activities": "activities.csv",
        "stage_history": "contact_property_history.csv",
    },
    "flat": {"flat": "leads_flat.csv"},
    "opportunities": {"opportunities": "opportunities.csv", "accounts": "accounts.csv"},
}
# fmt: off
SF_SOURCES = {"web_form": ("Web",), "organic_search": ("Organic Search",),
              "paid_search": ("Paid Search", "Google AdWords"), "social": ("Social Media",),
              "referral": ("Employee Referral", "External Referral", "Word of mouth"),
              "event": ("Trade Show", "Seminar - Internal"), "outbound": ("Purchased List", "Cold Call"),
              "partner": ("Partner Referral", "Partner")}
SF_INDUSTRIES = {"software": ("Technology",), "financial_services": ("Banking", "Finance", "Insurance"),
                 "healthcare": ("Healthcare",), "manufacturing": ("Manufacturing",), "retail": ("Retail",),
                 "education": ("Education",), "government": ("Government",),
                 "telecom": ("Telecommunications",), "media": ("Media",),
                 "logistics": ("Transportation", "Shipping"), "professional_services": ("Consulting",),
                 "energy": ("Energy", "Utilities"), "nonprofit": ("Not For Profit",)}
SF_STATUS = {"new": "Open - Not Contacted", "contacted": "Working - Contacted", "qualified": "Qualified",
             "demo": "Demo Scheduled", "proposal": "Proposal Sent", "negotiation": "Negotiation",
             "won": "Closed - Converted", "lost": "Closed - Not Converted"}
SF_TIMEFRAMES = {"0-1m": "Within 1 month", "1-3m": "1-3 months", "3-6m": "3-6 months",
                 "6-12m": "6-12 months", "12m+": "More than 12 months"}
SF_TASK_TYPES = {"email_open": "Email Open", "email_click": "Email Click", "email_reply": "Email Reply",
                 "web_visit": "Web Visit", "pricing_page_view": "Pricing Page View",
                 "content_download": "Content Download", "webinar_attended": "Webinar",
                 "form_submit": "Form Submission", "demo_request": "Demo Request",
                 "meeting": "Meeting", "call": "Call", "unsubscribe": "Unsubscribe",
                 "email_bounce": "Email Bounce", "chat_message": "Chat"}
HS_SOURCES = {"web_form": ("Direct Traffic", "DIRECT_TRAFFIC"), "organic_search": ("Organic Search", "ORGANIC_SEARCH"),
              "paid_search": ("Paid Search", "PAID_SEARCH"), "social": ("Organic Social", "SOCIAL_MEDIA"),
              "referral": ("Referrals", "REFERRALS"), "event": ("Offline Sources", "OFFLINE"),
              "outbound": ("Email Marketing", "EMAIL_MARKETING"), "partner": ("Other Campaigns", "OTHER_CAMPAIGNS")}
HS_INDUSTRIES = {"software": ("Computer Software",), "financial_services": ("Financial Services", "Banking"),
                 "healthcare": ("Hospital & Health Care",), "manufacturing": ("Industrial Automation",),
                 "retail": ("Retail",), "education": ("Higher Education", "Education Management"),
                 "government": ("Government Administration",), "telecom": ("Telecommunications",),
                 "media": ("Online Media",), "logistics": ("Logistics and Supply Chain",),
                 "professional_services": ("Management Consulting",), "energy": ("Oil & Energy",),
                 "nonprofit": ("Non-Profit Organization Management",)}
HS_LEAD_STATUS = {"new": ("NEW",), "contacted": ("ATTEMPTED_TO_CONTACT", "CONNECTED"),
                  "qualified": ("IN_PROGRESS",), "demo": ("DEMO_SCHEDULED",), "proposal": ("OPEN_DEAL",),
                  "negotiation": ("NEGOTIATION",), "won": ("CLOSED_WON",), "lost": ("UNQUALIFIED",)}
HS_LIFECYCLE = {"new": "Lead", "contacted": "Marketing Qualified Lead", "qualified": "Sales Qualified Lead",
                "demo": "Opportunity", "proposal": "Opportunity", "negotiation": "Opportunity",
                "won": "Customer", "lost": "Other"}
HS_ACTIVITY_TYPES = {"email_open": "Marketing email opened", "email_click": "Marketing email clicked",
                     "email_reply": "Email reply", "web_visit": "Page view",
                     "pricing_page_view": "Pricing page view", "content_download": "Content download",
                     "webinar_attended": "Webinar attended", "form_submit": "Form submission",
                     "demo_request": "Demo request", "meeting": "Meeting", "call": "Call",
                     "unsubscribe": "Unsubscribed", "email_bounce": "Email bounced", "chat_message": "Chat"}
FIRST = ["Ana", "Ben", "Chen", "Dana", "Eli", "Femi", "Gia", "Hugo", "Ines", "Jon", "Kai", "Lea", "Max", "Nia", "Omar", "Pia"]
LAST = ["Kim", "Silva", "Novak", "Okafor", "Rossi", "Berg", "Tanaka", "Dubois", "Ivanova", "Costa", "Haddad", "Lund"]
DURATION_TYPES = ("call", "meeting", "webinar_attended")
PAGE_TYPES = ("web_visit", "pricing_page_view")
# fmt: on


def _pick(
    values: pd.Series, choices: Mapping[str, tuple[str, ...]], rng: np.random.Generator
) -> pd.Series:
    """Each value's label, drawn among its labels where a CRM has several for one value."""
    draw = rng.random(len(values))
    out = [
        None if pd.isna(v) else choices[v][int(u * len(choices[v]))]
        for v, u in zip(values.astype("object"), draw, strict=True)
    ]
    return pd.Series(out, index=values.index, dtype="object")


def _iso_ms(times: pd.Series) -> pd.Series:
    """ISO 8601 in UTC with milliseconds and a Z, as Salesforce's API and Data Loader write."""
    text = times.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
    return text.astype("object").where(times.notna(), None)


def _local(times: pd.Series, fmt: str, zone: str = "UTC") -> pd.Series:
    text = times.dt.tz_convert(zone).dt.strftime(fmt)
    return text.astype("object").where(times.notna(), None)


def _integers(values: pd.Series) -> pd.Series:
    return (
        values.round().astype("Int64").astype("string").astype("object").where(values.notna(), None)
    )


def _record_numbers(lead_ids: pd.Series) -> np.ndarray:
    return lead_ids.astype(str).str.extract(r"(\d+)$")[0].astype("int64").to_numpy()


def _sf_ids(prefix: str, numbers: np.ndarray) -> pd.Series:
    """18-character ids in the order of ``numbers`` (a key prefix, as Salesforce's are)."""
    return pd.Series([f"{prefix}{n:012d}AAA" for n in numbers], dtype="object")


def _last_stage(crm: dict[str, pd.DataFrame]) -> pd.Series:
    stages = crm["stage_history"].sort_values(["lead_id", "entered_at"], kind="mergesort")
    return stages.groupby("lead_id")["stage"].last()


def _names(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.choice(FIRST, n), rng.choice(LAST, n)


def _activities_lookup(crm: dict[str, pd.DataFrame], key: pd.Series) -> pd.DataFrame:
    acts = crm["activities"].reset_index(drop=True)
    return acts.assign(who=acts["lead_id"].map(key))


def to_salesforce(crm: dict[str, pd.DataFrame], seed: int = 0) -> dict[str, pd.DataFrame]:
    """``Lead``, ``Task`` and ``LeadHistory`` exports with Salesforce API field names."""
    rng = np.random.default_rng(seed)
    leads = crm["leads"].reset_index(drop=True)
    ids = _sf_ids("00Q", _record_numbers(leads["lead_id"]))
    key = pd.Series(ids.to_numpy(), index=leads["lead_id"].to_numpy())
    status = leads["lead_id"].map(_last_stage(crm)).fillna("new").map(SF_STATUS)
    first, last = _names(len(leads), rng)
    owner = leads["owner_id"].str.extract(r"(\d+)$")[0]
    lead = pd.DataFrame(
        {
            "Id": ids,
            "FirstName": first,
            "LastName": last,
            "Company": leads["company"],
            "Title": leads["job_title"],
            "Email": leads["email"],
            "Phone": leads["phone"],
            "LeadSource": _pick(leads["source"], SF_SOURCES, rng),
            "Industry": _pick(leads["industry"], SF_INDUSTRIES, rng),
            "NumberOfEmployees": _integers(leads["employees"].astype("float64")),
            "AnnualRevenue": leads["annual_revenue"],
            "Country": leads["country"].map(COUNTRY_NAMES),
            "OwnerId": ("005" + owner.str.zfill(12) + "AAA").where(owner.notna(), None),
            "CreatedDate": _iso_ms(leads["created_at"]),
            "Status": status,
            "IsConverted": np.where(leads["converted_at"].notna(), "true", "false"),
            "ConvertedDate": _local(leads["converted_at"], "%Y-%m-%d"),
            "Budget__c": leads["budget"],
            "Purchase_Timeframe__c": leads["purchase_timeframe"].map(SF_TIMEFRAMES),
            "Need__c": leads["need"],
            "Decision_Maker__c": leads["is_decision_maker"].map({True: "Yes", False: "No"}),
        }
    )
    acts = _activities_lookup(crm, key)
    kind = acts["type"].astype(str)
    value = acts["value"].astype("float64")
    task = pd.DataFrame(
        {
            "Id": _sf_ids("00T", np.arange(1, len(acts) + 1)),
            "WhoId": acts["who"],
            "Subject": kind.map(SF_TASK_TYPES),
            "Type": kind.map(SF_TASK_TYPES),
            "Status": "Completed",
            "ActivityDate": _local(acts["occurred_at"], "%Y-%m-%d"),
            "CreatedDate": _iso_ms(acts["occurred_at"]),
            "CallDurationInSeconds": _integers((value * 60).where(kind == "call")),
            "DurationInMinutes": _integers(value.where(kind.isin(DURATION_TYPES[1:]))),
            "Pages_Viewed__c": _integers(value.where(kind.isin(PAGE_TYPES))),
        }
    )
    return {"leads": lead, "activities": task, "stage_history": _sf_history(crm, key, rng)}


def _sf_history(
    crm: dict[str, pd.DataFrame], key: pd.Series, rng: np.random.Generator
) -> pd.DataFrame:
    """Status changes; the first status shows as the ``created`` row, as in Salesforce."""
    stages = crm["stage_history"].sort_values(["lead_id", "entered_at"], kind="mergesort")
    label = stages["stage"].map(SF_STATUS)
    previous = label.groupby(stages["lead_id"]).shift(1)
    created = stages["stage"].eq("new").to_numpy()
    history = pd.DataFrame(
        {
            "LeadId": stages["lead_id"].map(key).to_numpy(),
            "CreatedDate": _iso_ms(stages["entered_at"]).to_numpy(),
            "Field": np.where(created, "created", "Status"),
            "OldValue": np.where(created, None, previous.to_numpy()),
            "NewValue": np.where(created, None, label.to_numpy()),
        }
    )
    # Other tracked fields share the object: an owner change for a few leads.
    moved = crm["leads"].sample(frac=0.05, random_state=int(rng.integers(1 << 31)))
    owners = pd.DataFrame(
        {
            "LeadId": moved["lead_id"].map(key).to_numpy(),
            "CreatedDate": _iso_ms(moved["created_at"] + pd.Timedelta(days=3)).to_numpy(),
            "Field": "Owner",
            "OldValue": moved["owner_id"].to_numpy(),
            "NewValue": "rep_99",
        }
    )
    history = pd.concat([history, owners], ignore_index=True)
    history.insert(0, "Id", _sf_ids("017", np.arange(1, len(history) + 1)))
    return history


def to_hubspot(crm: dict[str, pd.DataFrame], seed: int = 0) -> dict[str, pd.DataFrame]:
    """``contacts`` (property labels as in a HubSpot export), activities and lead-status history.

    The contacts export writes times as the UI does (to the second, in the account's zone,
    without an offset); the activities and the property history come from the API or a
    sync, in UTC milliseconds.
    """
    rng = np.random.default_rng(seed)
    leads = crm["leads"].reset_index(drop=True)
    ids = pd.Series(
        (10_000_000_000 + _record_numbers(leads["lead_id"])).astype(str), dtype="object"
    )
    key = pd.Series(ids.to_numpy(), index=leads["lead_id"].to_numpy())
    stage = leads["lead_id"].map(_last_stage(crm)).fillna("new")
    acts = _activities_lookup(crm, key)
    counts = acts.groupby(["lead_id", "type"]).size().unstack(fill_value=0)
    first, last = _names(len(leads), rng)
    owner_no = leads["owner_id"].str.extract(r"(\d+)$")[0].astype("float64")
    owner = [
        None if np.isnan(n) else f"{FIRST[int(n) % len(FIRST)]} {LAST[int(n) % len(LAST)]}{int(n)}"
        for n in owner_no
    ]
    # Exports made through the API show internal names (ORGANIC_SEARCH), the UI labels.
    source = _pick(leads["source"], HS_SOURCES, rng)
    contacts = pd.DataFrame(
        {
            "Record ID": ids,
            "First Name": first,
            "Last Name": last,
            "Email": leads["email"],
            "Phone Number": leads["phone"],
            "Company Name": leads["company"],
            "Job Title": leads["job_title"],
            "Industry": _pick(leads["industry"], HS_INDUSTRIES, rng),
            "Number of Employees": _integers(leads["employees"].astype("float64")),
            "Annual Revenue": leads["annual_revenue"],
            "Country/Region": leads["country"].map(COUNTRY_NAMES),
            "Original Source": source,
            "Contact owner": owner,
            "Create Date": _local(leads["created_at"], "%Y-%m-%d %H:%M:%S"),
            "Lifecycle Stage": stage.map(HS_LIFECYCLE),
            "Lead Status": stage.map(lambda s: HS_LEAD_STATUS[s][0].replace("_", " ").title()),
            "Became a Customer Date": _local(leads["converted_at"], "%Y-%m-%d %H:%M:%S"),
            "Total Revenue": leads["deal_value"],
            "Budget": leads["budget"],
            "Purchase Timeframe": leads["purchase_timeframe"].map(SF_TIMEFRAMES),
            "Need": leads["need"],
            "Decision Maker": leads["is_decision_maker"].map({True: "true", False: "false"}),
            "Marketing emails opened": leads["lead_id"]
            .map(counts.get("email_open"))
            .fillna(0)
            .astype(int),
            "Number of Pageviews": leads["lead_id"]
            .map(counts.get("web_visit"))
            .fillna(0)
            .astype(int),
        }
    )
    kind = acts["type"].astype(str)
    value = acts["value"].astype("float64")
    activities = pd.DataFrame(
        {
            "Contact ID": acts["who"],
            "Activity Type": kind.map(HS_ACTIVITY_TYPES),
            "Activity Date": _iso_ms(acts["occurred_at"]),
            "Duration (minutes)": value.where(kind.isin(DURATION_TYPES)),
            "Page Views": _integers(value.where(kind.isin(PAGE_TYPES))),
        }
    )
    return {
        "leads": contacts,
        "activities": activities,
        "stage_history": _hs_history(crm, key, rng),
    }


def _hs_history(
    crm: dict[str, pd.DataFrame], key: pd.Series, rng: np.random.Generator
) -> pd.DataFrame:
    """Lead-status changes in the shape of a property-history sync (one row per change)."""
    stages = crm["stage_history"]
    status = pd.DataFrame(
        {
            "contact_id": stages["lead_id"].map(key).to_numpy(),
            "name": "hs_lead_status",
            "value": _pick(stages["stage"], HS_LEAD_STATUS, rng).to_numpy(),
            "timestamp": _iso_ms(stages["entered_at"]).to_numpy(),
            "source": "CRM_UI",
        }
    )
    lifecycle = status.assign(
        name="lifecyclestage", value=stages["stage"].map(HS_LIFECYCLE).str.lower().to_numpy()
    )
    return pd.concat([status, lifecycle], ignore_index=True)


def to_flat(crm: dict[str, pd.DataFrame], seed: int = 0) -> dict[str, pd.DataFrame]:
    """One row per lead as of the export, label ``Converted``, no history.

    Activity counts run to the export, so they include what happened after a lead converted,
    and ``Lead Status`` is filled in by sales as the deal moves: it all but states the
    outcome. The flat path's leakage report is there to catch exactly this.
    """
    rng = np.random.default_rng(seed)
    leads = crm["leads"].reset_index(drop=True)
    counts = crm["activities"].groupby(["lead_id", "type"]).size().unstack(fill_value=0)
    stage = leads["lead_id"].map(_last_stage(crm)).fillna("new")

    def count(kind: str) -> pd.Series:
        return leads["lead_id"].map(counts.get(kind)).fillna(0).astype(int)

    def form(values: pd.Series) -> pd.Series:
        # A web form's untouched drop-down exports as "Select"; some rows are simply blank.
        text = values.astype("object")
        select = pd.Series("Select", index=text.index).where(rng.random(len(text)) < 0.7)
        return text.where(text.notna(), select)

    label = leads["source"].astype("object").str.replace("_", " ").str.title()
    flat = pd.DataFrame(
        {
            "Lead ID": leads["lead_id"],
            "Lead Source": form(label),
            "Industry": leads["industry"].astype("object").str.replace("_", " ").str.title(),
            "Employees": _integers(leads["employees"].astype("float64")),
            "Annual Revenue": leads["annual_revenue"],
            "Country": form(leads["country"]),
            "Job Title": leads["job_title"],
            "Email": leads["email"],
            "Phone": leads["phone"],
            "Budget": leads["budget"],
            "Purchase Timeframe": form(leads["purchase_timeframe"].map(SF_TIMEFRAMES)),
            "Need": leads["need"],
            "Decision Maker": form(leads["is_decision_maker"].map({True: "Yes", False: "No"})),
            "Website Visits": count("web_visit"),
            "Pricing Page Views": count("pricing_page_view"),
            "Emails Opened": count("email_open"),
            "Demo Requests": count("demo_request"),
            "Meetings": count("meeting"),
            "Lead Status": stage.str.replace("won", "closed won")
            .str.replace("lost", "closed lost")
            .str.title(),
            "Converted": leads["converted_at"].notna().astype(int),
        }
    )
    return {"flat": flat}


def to_dialect(
    crm: dict[str, pd.DataFrame], dialect: str, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """The export frames of ``dialect`` keyed by contract table.

    ``flat`` gives one frame; ``opportunities`` gives ``opportunities`` and ``accounts``
    (:mod:`pipelines.synthetic.opportunities`), which are not contract tables.
    """
    writers = {
        "salesforce": to_salesforce,
        "hubspot": to_hubspot,
        "flat": to_flat,
        "opportunities": to_opportunities,
    }
    if dialect not in writers:
        raise ValueError(f"unknown dialect {dialect!r}; known: {', '.join(DIALECTS)}")
    return writers[dialect](crm, seed)
