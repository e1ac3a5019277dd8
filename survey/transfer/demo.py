"""Demo data: a believable Hà Nội after the 2025 reorganisation, with a year of counter surveys.

Everything is drawn from random.Random(seed), so the same seed and the same "now" give the same
data; only the interaction tokens come from the secure generator, as in production.
"""

from __future__ import annotations

import base64
import calendar
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, joinedload

from questionnaires import Definition, Scale
from survey.domain import catalog, signing
from survey.domain.reference import import_csv
from survey.domain.responses import Submission, questionnaire_for, store
from survey.models import Counter, Interaction, Service, utcnow

# Probability of a satisfied answer mid-period: some agencies under the 86 % target, some over 90 %.
LEVELS = {"TTPVHCC": 0.94, "STP": 0.91, "SXD": 0.81, "SNNMT": 0.83, "STC": 0.92, "P-HK": 0.95, "P-BD": 0.93,
          "P-CG": 0.89, "P-TH": 0.92, "P-HD": 0.85, "X-SS": 0.81, "X-GL": 0.87}  # fmt: skip
HOTICH, KINHTE = "HT-KS HT-KT HT-KH HT-XNHN CT-BS", "KD-HKD DD-BD XD-GPXD"
# The services each counter receives, and its relative traffic.
TRAFFIC = {
    "TT-01": ("TP-LLTP CT-BS", 3), "TT-02": ("XD-GPXD DD-BD", 3), "TT-03": ("KD-DN KD-HKD", 2),
    "STP-01": ("TP-LLTP", 2), "SXD-01": ("XD-GPXD", 2), "NNMT-01": ("DD-BD", 2), "NNMT-02": ("DD-BD", 1),
    "STC-01": ("KD-DN", 2), "HK-01": (HOTICH, 3), "HK-02": (KINHTE, 2), "BD-01": (HOTICH, 3), "BD-02": ("CT-BS", 2),
    "CG-01": (HOTICH, 3), "CG-02": (KINHTE, 2), "CG-03": ("CT-BS", 2), "TH-01": (f"{HOTICH} {KINHTE}", 3),
    "HD-01": (HOTICH, 3), "HD-02": (KINHTE, 2), "SS-01": (HOTICH, 2), "SS-02": (f"CT-BS {KINHTE}", 2),
    "GL-01": (HOTICH, 2), "GL-02": (KINHTE, 2),
}  # fmt: skip
# Shifts of the probability of a satisfied answer: PA and TT are the weak elements.
ELEMENT_SHIFT = {"TC": 0.01, "TT": -0.03, "CC": 0.02, "KQ": 0.0, "PA": -0.07}
ITEM_SHIFT = {"TT4": -0.03, "KQ1": -0.02, "CC1": 0.01, "DG1": -0.04, "DG9": -0.05}
SKIP = {"PA": 0.3, "DG8": 0.25, "DG9": 0.35}  # "no opinion": feedback and online items often do not apply
SKIP_OTHER = 0.03
TREND = 0.0035  # monthly gain in the satisfied share: about four points a year
PRIORITY_WEIGHTS = {"UT5": (0.2, 0.4, 0.4), "UT7": (0.25, 0.4, 0.35), "UT9": (0.25, 0.45, 0.3)}
BACKGROUND_WEIGHTS = {
    "BG_TYPE": (0.85, 0.15),
    "BG_GENDER": (0.46, 0.5, 0.04),
    "BG_AGE": (0.12, 0.3, 0.33, 0.15, 0.1),
    "BG_EDUCATION": (0.03, 0.1, 0.27, 0.2, 0.33, 0.07),
    "BG_OCCUPATION": (0.05, 0.15, 0.1, 0.08, 0.25, 0.12, 0.17, 0.08),
}
PRAISE = [
    "Cán bộ hướng dẫn nhiệt tình, chu đáo.",
    "Thủ tục nhanh gọn, tôi nhận kết quả đúng hẹn.",
    "Trụ sở sạch sẽ, có chỗ ngồi chờ thoáng mát.",
    "Nhân viên lịch sự, giải thích rõ ràng từng bước.",
    "Cảm ơn cán bộ đã hỗ trợ tôi nộp hồ sơ trực tuyến.",
]
COMPLAINTS = [
    "Phải chờ khá lâu mới đến lượt.",
    "Hồ sơ phải bổ sung nhiều lần, đề nghị hướng dẫn đầy đủ ngay từ đầu.",
    "Chỗ để xe chật, khó tìm chỗ gửi xe.",
    "Máy lấy số thứ tự hay bị lỗi.",
    "Tôi đã gửi phản ánh nhưng chưa nhận được trả lời.",
    "Kết quả trả chậm so với giấy hẹn.",
]
BATCH = 1000
# The demo's reference data: CSV files in the administrators' import format, loaded through that import.
# The city's People's Committee has no counter: citizens go to the Centre and to the wards.
REFERENCE_DIR = Path(__file__).resolve().parent / "demo_data"
REFERENCE_KINDS = ("agencies", "services", "counters")


@dataclass(frozen=True)
class DemoResult:
    agencies: int
    services: int
    counters: int
    responses: int
    interactions: int

    def summary(self) -> str:
        return (
            f"Seeded {self.agencies} agencies, {self.services} services, {self.counters} counters, "
            f"{self.responses:,} responses, {self.interactions:,} interactions."
        )


def seed_demo(
    session: Session,
    months: int = 12,
    per_month: int = 400,
    seed: int = 1,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoResult:
    """Create the demo agencies, services and counters, then months of responses up to now."""
    rng = random.Random(seed)
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    today = (now or utcnow()).astimezone(tz).date()
    for definition in catalog.current():
        # Registering a version uses a connection of its own: do it before this session holds a write lock.
        catalog.version_id(definition)
    sizes = [
        import_csv(session, kind, (REFERENCE_DIR / f"{kind}.csv").read_text(encoding="utf-8"))
        for kind in REFERENCE_KINDS
    ]
    counters = _counter_profiles(session, rng)
    # Interactions: the 30 days before today, local time.
    window = tuple(datetime.combine(d, time(), tzinfo=tz) for d in (today - timedelta(days=30), today))
    lifetime = timedelta(days=current_app.config["TOKEN_LIFETIME_DAYS"])
    responses = interactions = 0
    for index, first in enumerate(_month_starts(today, months)):
        trend = TREND * (index - (months - 1) / 2)  # the levels above are mid-period
        drawn = _draw_month(rng, counters, first, today, per_month, trend, tz)
        for start in range(0, len(drawn), BATCH):
            batch = drawn[start : start + BATCH]
            interactions += _link_interactions(session, rng, batch, window, lifetime, tz)
            store(session, [d.submission for d in batch])
        responses += len(drawn)
        if progress:
            progress(1)
    return DemoResult(*(r.created + r.updated + r.unchanged for r in sizes), responses, interactions)


@dataclass
class _Profile:
    counter: Counter
    definition: Definition
    version_id: int
    services: list[int]
    weight: int
    level: float
    response_rate: float


def _counter_profiles(session: Session, rng: random.Random) -> list[_Profile]:
    """The demo counters, each with its questionnaire, services, traffic and agency levels."""
    services = dict(session.execute(select(Service.code, Service.id)).all())
    rate = {code: round(rng.uniform(0.55, 0.85), 2) for code in LEVELS}  # share of tokens answered
    counters = session.scalars(
        select(Counter).options(joinedload(Counter.agency)).where(Counter.code.in_(TRAFFIC)).order_by(Counter.code)
    )
    profiles = []
    for c in counters:
        definition, (codes, weight) = questionnaire_for(c.agency, c), TRAFFIC[c.code]
        version_id, agency = catalog.version_id(definition), c.agency.code
        profiles.append(_Profile(c, definition, version_id, [services[s] for s in codes.split()], weight,
                                 LEVELS[agency], rate[agency]))  # fmt: skip
    return profiles


def _month_starts(today: date, months: int) -> list[date]:
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _office_days(first: date) -> list[tuple[date, float]]:
    """The month's working days with their relative traffic; Saturday mornings are quieter."""
    last = calendar.monthrange(first.year, first.month)[1]
    days = [first.replace(day=d) for d in range(1, last + 1)]
    return [(d, 1.0 if d.weekday() < 5 else 0.4) for d in days if d.weekday() < 6]


def _office_time(rng: random.Random, day: date, tz: ZoneInfo) -> datetime:
    """A moment of opening hours (8:00-11:30, 13:30-17:00; Saturday mornings only), in UTC."""
    minute = rng.randrange(210 if day.weekday() == 5 else 420)
    start = 8 * 60 + minute if minute < 210 else 13 * 60 + 30 + minute - 210
    local = datetime.combine(day, time(start // 60, start % 60, rng.randrange(60)), tzinfo=tz)
    return local.astimezone(UTC)


def _draw_month(
    rng: random.Random, counters: list[_Profile], first: date, today: date, per_month: int, trend: float, tz: ZoneInfo
) -> list[_Drawn]:
    """A month's responses in time order; the current month only up to yesterday, pro rata."""
    days = _office_days(first)
    past = [(d, w) for d, w in days if d < today]
    count = round(per_month * sum(w for _, w in past) / sum(w for _, w in days))
    if not past or not count:
        return []
    chosen_days = rng.choices([d for d, _ in past], weights=[w for _, w in past], k=count)
    chosen_counters = rng.choices(counters, weights=[c.weight for c in counters], k=count)
    drawn = [
        _draw_response(rng, profile, _office_time(rng, day, tz), trend)
        for day, profile in zip(chosen_days, chosen_counters, strict=True)
    ]
    return sorted(drawn, key=lambda r: r.submission.submitted_at)


@dataclass
class _Drawn:
    submission: Submission
    profile: _Profile


def _draw_response(rng: random.Random, profile: _Profile, at: datetime, trend: float) -> _Drawn:
    definition, counter = profile.definition, profile.counter
    mood = rng.gauss(0, 0.05)  # some citizens are happier with everything than others
    answers = {}
    for item in definition.criteria:
        if rng.random() < SKIP.get(item.code, SKIP.get(item.element, SKIP_OTHER)):
            continue
        p = profile.level + trend + mood + ELEMENT_SHIFT.get(item.element, 0.0) + ITEM_SHIFT.get(item.code, 0.0)
        answers[item.code] = _scale_value(rng, item.scale, min(max(p, 0.02), 0.995))
    if definition.priorities and rng.random() < 0.45:
        for item in definition.priorities:
            if rng.random() < 0.85:
                answers[item.code] = _weighted(rng, item.scale.values, PRIORITY_WEIGHTS.get(item.code, (0.4, 0.4, 0.2)))
    if definition.background and rng.random() < 0.6:
        for item in definition.background:
            if rng.random() < 0.9:
                answers[item.code] = _weighted(rng, item.scale.values, BACKGROUND_WEIGHTS.get(item.code, ()))
    comment = None
    if definition.comment and rng.random() < 0.07:
        satisfied = sum(answers.get(c.code) in c.scale.satisfied for c in definition.criteria)
        comment = rng.choice(PRAISE if satisfied >= 0.75 * len(definition.criteria) else COMPLAINTS)
    key = base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode()
    service_id = rng.choice(profile.services)
    sub = Submission(
        definition, counter.agency_id, "qr", key, answers, comment, counter.id, service_id, submitted_at=at
    )
    return _Drawn(sub, profile)


def _scale_value(rng: random.Random, scale: Scale, p_satisfied: float) -> int:
    """A value of the scale: satisfied with probability p; answers nearer the boundary are likelier."""
    if rng.random() < p_satisfied:
        pool = sorted(scale.satisfied)
        return _weighted(rng, pool, [0.8**k for k in range(len(pool))])
    pool = sorted(set(scale.values) - scale.satisfied)
    return _weighted(rng, pool, [2.2**k for k in range(len(pool))])


def _weighted(rng: random.Random, values, weights) -> int:
    values = list(values)
    if len(weights) != len(values):
        weights = [1.0] * len(values)
    return rng.choices(values, weights=weights)[0]


def _link_interactions(
    session: Session,
    rng: random.Random,
    batch: list[_Drawn],
    window: tuple[datetime, ...],
    lifetime: timedelta,
    tz: ZoneInfo,
) -> int:
    """Give some of the last month's responses a one-time token, and leave other tokens unused."""
    used, unused = [], []
    for drawn in batch:
        sub, profile = drawn.submission, drawn.profile
        if not window[0] <= sub.submitted_at < window[1] or rng.random() < 0.5:
            continue
        base = {"agency_id": sub.agency_id, "counter_id": sub.counter_id, "service_id": sub.service_id}
        created = sub.submitted_at - timedelta(minutes=rng.randint(2, 30))
        used.append((sub, _interaction(base, created, lifetime, None)))  # store() marks it used
        while rng.random() > profile.response_rate:  # tokens handed out the same day but never answered
            created = _office_time(rng, sub.submitted_at.astimezone(tz).date(), tz)
            unused.append(_interaction(base, created, lifetime, None))
    if used:
        stmt = insert(Interaction).returning(Interaction.id, sort_by_parameter_order=True)
        ids = session.scalars(stmt, [values for _, values in used]).all()
        for (sub, _), interaction_id in zip(used, ids, strict=True):
            # As in the web form: a response sent through a token link comes on the token channel.
            sub.interaction_id, sub.channel = interaction_id, "token"
    if unused:
        session.execute(insert(Interaction), unused)
    return len(used) + len(unused)


def _interaction(base: dict, created: datetime, lifetime: timedelta, used_at: datetime | None) -> dict:
    token_hash = signing.token_hash(signing.new_token())  # the demo hands out none of these tokens
    return {**base, "channel": "counter", "dossier_hash": None, "token_hash": token_hash,
            "created_at": created, "expires_at": created + lifetime, "used_at": used_at}  # fmt: skip
