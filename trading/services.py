"""Writes of the exchange: order entry and cancel, market status, settlement and the end of day.

Order entry is one short transaction: validate, reserve in the ledger, store the order, and last of
all take the instrument's next sequence number (its row lock is held only for that update and the
commit, so sequence numbers commit in order and without gaps). Matching happens after commit, in
the matcher (trading.matcher), strictly in sequence order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import access_of
from accounts.models import Organization
from accounts.roles import NON_TRADING_ROLES
from accounts.selectors import user_organization_ids
from core import live, numbers
from core.audit import audit_event, audit_record
from core.contention import retry_on_contention
from core.db import Prepared, row_insert, row_insert_statement, statements_execute
from core.errors import DomainError, IdempotencyConflict, InsufficientBalance, InvalidInput, NotFound, PermissionDenied
from core.locks import END_OF_DAY, LockKey, advisory_xact_lock
from core.models import AuditEvent
from registry.models import Account, Asset, Balance, Bucket, Transfer
from registry.services import Movement, balances_lock, ledger_post
from trading import errors
from trading.clock import is_trading_time, trading_day
from trading.fees import buy_reservation
from trading.matcher import matching_drain
from trading.models import BlockOffer, DailyBar, Instrument, MarketEvent, Order, Side, Trade
from trading.participants import cash_asset, participant_accounts_cached, participants_forget
from trading.selectors import daily_bar_compute
from trading.settlement import trades_settle_all

logger = logging.getLogger(__name__)


# --- who trades ---


def _trading_organization(user: Any) -> Organization:
    """The organization `user` trades for, or NotEligible (RULEBOOK: staff of regulators, the
    exchange and verifiers may not trade). From accounts.access: no query once remembered."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise errors.NotEligible(_("Log in to trade."))
    access = access_of(user)
    if access.roles & NON_TRADING_ROLES:
        raise errors.NotEligible(_("Staff of regulators, the exchange, verifiers and auditors may not trade."))
    if not user.has_perm("trading.trade"):
        raise errors.NotEligible(_("Your role does not include trading."))
    organization = access.organization
    if organization is None:
        raise errors.NotEligible(_("You must belong to exactly one participant organization to trade."))
    if organization.status != Organization.Status.ACTIVE or organization.kind == Organization.Kind.SYSTEM:
        raise errors.NotEligible(_("%(name)s is not an active participant.") % {"name": organization.name})
    return organization


def trading_organization(user: Any) -> Organization:
    """The organization `user` may trade for; NotEligible for those who may only look."""
    return _trading_organization(user)


# --- order entry ---


def parse_price(text: Any) -> int:
    """"48.00" -> 4800 fen (core.numbers: ASCII or full-width digits, no exponent). More than two
    decimals cannot be on the 0.01 tick."""
    try:
        price = numbers.parse_price(text, field="price")
    except numbers.NumberRefused as refused:
        if refused.reason == "decimals":
            raise errors.InvalidTick(_("Prices have at most two decimals (tick 0.01)."), field="price") from None
        if refused.reason == "not_a_number":
            raise errors.InvalidPrice(_("%(text)s is not a price.") % {"text": repr(str(text)[:24])}, field="price") from None
        raise errors.InvalidPrice(refused.message, field="price") from None
    if price <= 0:
        raise errors.InvalidPrice(_("The price must be positive."), field="price")
    return price


def _fingerprint(**body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


_SIDES = frozenset(Side.values)


def _validate_order(instrument: Instrument, side: str, price: int, quantity: Any) -> None:
    if side not in _SIDES:
        raise errors.InvalidSide(_("The side must be buy or sell, not %(side)s.") % {"side": repr(side)}, field="side")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise errors.QuantityOutOfRange(_("The quantity must be a whole number of tonnes."), field="quantity")
    if not instrument.min_quantity <= quantity <= instrument.max_quantity:
        raise errors.QuantityOutOfRange(
            _("The quantity must be %(min)s to %(max)s t.") % {"min": f"{instrument.min_quantity:,}", "max": f"{instrument.max_quantity:,}"},
            field="quantity",
        )
    if price % instrument.tick:
        raise errors.InvalidTick(_("The price must be a multiple of %(tick)s.") % {"tick": f"{instrument.tick / 100:.2f}"}, field="price")
    if not instrument.lower_limit <= price <= instrument.upper_limit:
        raise errors.PriceOutOfBand(
            _("Today's limits are %(lower)s to %(upper)s.") % {"lower": f"{instrument.lower_limit / 100:.2f}", "upper": f"{instrument.upper_limit / 100:.2f}"},
            field="price",
        )
    if instrument.status == Instrument.Status.HALTED:
        raise errors.InstrumentHalted(_("Trading in %(symbol)s is halted.") % {"symbol": instrument.symbol})
    if instrument.status == Instrument.Status.CLOSED or not is_trading_time():
        raise errors.MarketClosed(_("%(symbol)s is not trading now.") % {"symbol": instrument.symbol})


# The instrument's fields an order was validated against. Sequencing re-checks them under the
# instrument's row lock, so a halt, a close or a new reference price committed meanwhile is never
# missed: the order is either sequenced before the change or validated again after it.
_VALIDATED_FIELDS = ("status", "reference_price", "band_percent", "tick", "min_quantity", "max_quantity")
_UNCHANGED = " AND ".join(f"{field} = %({field})s" for field in _VALIDATED_FIELDS)

_SEQUENCE_EVENT_POSTGRES = Prepared(f"""
WITH taken AS (
    UPDATE trading_instrument SET last_sequence = last_sequence + 1
    WHERE id = %(instrument)s AND (%(kind)s <> 'order' OR ({_UNCHANGED}))
    RETURNING last_sequence
), stamped AS (
    UPDATE trading_order SET sequence = (SELECT last_sequence FROM taken)
    WHERE id = %(order)s AND %(kind)s = 'order'
), event AS (
    INSERT INTO trading_marketevent (instrument_id, sequence, kind, order_id, trading_day, created_at)
    SELECT %(instrument)s, last_sequence, %(kind)s, %(order)s, %(day)s::date, now() FROM taken
    RETURNING sequence
)
SELECT sequence, CASE WHEN %(notify)s THEN pg_notify('market_events', %(instrument)s::text) END FROM event
""")


def _sequence_event(
    instrument_id: int, kind: str, *, order_id: int | None = None, day: dt.date | None = None,
    validated: Instrument | None = None, audit: AuditEvent | None = None,
) -> int | None:
    """Appends an event to the instrument's sequence and returns its number (a new order also gets
    it as its own sequence). Call it last in the transaction: the instrument row lock it takes is
    held until commit, which is what makes sequence numbers commit in order and without gaps.
    A new order passes the instrument it was `validated` against; if the row has changed since,
    nothing is written and None comes back. On PostgreSQL it is one round trip, with the matcher's
    notification (delivered at commit) included, and the `audit` event of the change written first in
    the same round trip."""
    checked = {field: getattr(validated, field) for field in _VALIDATED_FIELDS} if validated else {}
    if kind == MarketEvent.Kind.ORDER and not validated:
        raise ValueError("a new order is sequenced with the instrument it was validated against")
    params = {"instrument": instrument_id, "kind": kind, "order": order_id, "day": day,
              "notify": not settings.MATCHER_INLINE, **dict.fromkeys(_VALIDATED_FIELDS), **checked}
    audited = [row_insert_statement(audit, returning=False)] if audit is not None else []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            statements_execute(cursor, [*audited, (_SEQUENCE_EVENT_POSTGRES, params)])
            row = cursor.fetchone()
            return row[0] if row else None
        statements_execute(cursor, audited)
        cursor.execute(
            "UPDATE trading_instrument SET last_sequence = last_sequence + 1 "
            f"WHERE id = %(instrument)s AND (%(kind)s <> 'order' OR ({_UNCHANGED})) RETURNING last_sequence",
            params,
        )
        row = cursor.fetchone()
    if row is None:
        return None
    sequence = row[0]
    if kind == MarketEvent.Kind.ORDER:
        Order.objects.filter(pk=order_id).update(sequence=sequence)
    MarketEvent.objects.create(instrument_id=instrument_id, sequence=sequence, kind=kind, order_id=order_id, trading_day=day)
    return sequence


def _notify_matcher(instrument_id: int) -> None:
    """Inline matching (the embedded default) runs after commit; otherwise `_sequence_event`'s
    statement notifies the matcher process."""
    if settings.MATCHER_INLINE:
        transaction.on_commit(lambda: matching_drain(instrument_id))


@retry_on_contention
def order_place(
    *, user: Any, instrument: Instrument | str, side: str, price: Any, quantity: Any, client_order_id: str
) -> tuple[Order, bool]:
    """Accepts a limit order: validates it, reserves cash (value + fee) or allowances, and queues it
    for matching. Returns (order, created). The same client_order_id with the same body returns the
    first order; with a different body it is an idempotency conflict."""
    organization = _trading_organization(user)
    client_order_id = (client_order_id or "").strip()
    if not client_order_id or len(client_order_id) > 64:
        raise InvalidInput(_("Give a client_order_id of 1 to 64 characters."), field="client_order_id")
    if isinstance(instrument, str):
        instrument = _instrument_cached(instrument)
    price_fen = parse_price(price)
    fingerprint = dict(instrument=instrument.symbol, side=side, price=price_fen, quantity=quantity)
    try:
        return _order_accept(user, organization, instrument, side, price_fen, quantity, client_order_id), True
    except (IntegrityError, DomainError) as error:
        # Was the client_order_id used before? The hot path does not look (the unique constraint
        # tells); a refusal might only be a retry whose first attempt succeeded, when the market
        # has moved on since. The same body is a replay, another body a conflict.
        existing = Order.objects.filter(organization=organization, client_order_id=client_order_id).first()
        if existing is None:
            raise error
        return _replay(existing, fingerprint), False


def _order_accept(
    user: Any, organization: Organization, instrument: Instrument, side: str, price: int, quantity: Any, client_order_id: str
) -> Order:
    instrument = _validated(instrument, side, price, quantity)
    holding, cash = _accounts_of(organization)
    rate = settings.TRADING_FEE_RATE
    cny = cash_asset()
    if side == Side.BUY:
        reserve_asset, reserve_account, amount = cny, cash, buy_reservation(price, quantity, rate)
    else:
        reserve_asset, reserve_account, amount = instrument.asset, holding, quantity
    with transaction.atomic():
        # The order first: inserting it takes no lock another order waits for (but a retry with the
        # same client_order_id), so the balance locks below are held for as short a time as can be.
        order = _order_insert(
            instrument=instrument, organization=organization, placed_by=user, client_order_id=client_order_id,
            side=side, price=price, quantity=quantity, fee_rate=rate, reserved=amount, trading_day=trading_day(),
        )
        # The holding is locked for buys too, so that two buys cannot both pass the position check.
        locked = balances_lock([(reserve_account.pk, reserve_asset.pk), (holding.pk, instrument.asset_id)])
        if side == Side.BUY:
            _check_position(order, locked[(holding.pk, instrument.asset_id)].total)
        try:
            ledger_post(
                [Movement(kind=Transfer.Kind.RESERVE, asset=reserve_asset, amount=amount, source=reserve_account,
                          source_bucket=Bucket.AVAILABLE, destination=reserve_account, destination_bucket=Bucket.RESERVED,
                          reference=f"order:{order.pk}")],
                actor=user, locked=locked, savepoint=False,
            )
        except InsufficientBalance:
            if side == Side.BUY:
                raise errors.InsufficientFunds(
                    _("The order needs %(amount)s CNY (value and fee) available.") % {"amount": f"{amount / 100:,.2f}"}, field="quantity"
                ) from None
            raise errors.InsufficientAllowances(
                _("The order needs %(amount)s t of %(asset)s available.") % {"amount": f"{amount:,}", "asset": instrument.asset.code},
                field="quantity",
            ) from None
        audit = audit_event(
            actor=user, action="order.place", obj=order,
            after={"instrument": instrument.symbol, "side": side, "price": price, "quantity": quantity,
                   "client_order_id": client_order_id, "reserved": amount},
        )
        # (No live announcement here: the matcher announces the organization when it applies the
        # order, a few milliseconds later, with the order's state after matching.)
        _notify_matcher(instrument.pk)
        order.sequence = _sequence_event(
            instrument.pk, MarketEvent.Kind.ORDER, order_id=order.pk, validated=instrument, audit=audit
        )
        while order.sequence is None:  # the instrument changed after validation: validate again
            instrument = _validated(instrument, side, price, quantity, fresh=True)
            order.sequence = _sequence_event(instrument.pk, MarketEvent.Kind.ORDER, order_id=order.pk, validated=instrument)
    if settings.MATCHER_INLINE:
        order.refresh_from_db()
    return order


_instrument_cache: dict[str, Instrument] = {}


def _instrument_cached(symbol: str) -> Instrument:
    """The instrument by symbol, as last read by this process. A stale copy is harmless: order
    entry validates again against a fresh row whenever the copy refuses an order or the row has
    changed by the time the order is sequenced."""
    instrument = _instrument_cache.get(symbol)
    if instrument is None:
        instrument = Instrument.objects.select_related("asset").filter(symbol=symbol).first() or _unknown(symbol)
        _instrument_cache[symbol] = instrument
    return instrument


def _validated(instrument: Instrument, side: str, price: int, quantity: Any, *, fresh: bool = False) -> Instrument:
    """`instrument` if the order is valid on it; else the order is validated on a fresh read,
    which raises the refusal or comes back as the instrument to use."""
    if not fresh:
        try:
            _validate_order(instrument, side, price, quantity)
            return instrument
        except DomainError:
            pass
    instrument = Instrument.objects.select_related("asset").get(pk=instrument.pk)
    _instrument_cache[instrument.symbol] = instrument
    _validate_order(instrument, side, price, quantity)
    return instrument


def _order_insert(**fields: Any) -> Order:
    now = timezone.now()
    return row_insert(Order(**fields, created_at=now, updated_at=now))


def _accounts_of(organization: Organization) -> tuple[Account, Account]:
    """(holding, cash) of a participant."""
    accounts = participant_accounts_cached({organization.pk}).get(organization.pk)
    if accounts is None:
        raise errors.NotEligible(_("%(name)s has no registry and trading funds accounts.") % {"name": organization.name})
    return accounts


def caches_clear(**kwargs: Any) -> None:
    """Forgets remembered rows (after migrate, and after the test runner flushes the database)."""
    participants_forget()
    _instrument_cache.clear()


def _unknown(symbol: str) -> Instrument:
    raise errors.UnknownInstrument(_("No instrument %(symbol)s.") % {"symbol": repr(symbol)}, field="instrument")


def _replay(existing: Order, fingerprint: dict[str, Any]) -> Order:
    first = dict(instrument=existing.instrument.symbol, side=existing.side, price=existing.price, quantity=existing.quantity)
    if _fingerprint(**first) != _fingerprint(**fingerprint):
        raise IdempotencyConflict(
            _("client_order_id %(id)s was already used for a different order.") % {"id": repr(existing.client_order_id)},
            field="client_order_id",
        )
    return existing


# On every buy's path. The side and statuses are in the text, so that the plan prepared for it
# (with the parameters unknown) still reads the order_open_buys partial index.
_OPEN_BUYS = Prepared(
    "SELECT COALESCE(SUM(quantity - filled_quantity), 0) FROM trading_order "
    f"WHERE organization_id = %s AND instrument_id = %s AND side = '{Side.BUY}' "
    f"AND status IN ({', '.join(repr(str(status)) for status in Order.LIVE)}) AND id <> %s"
)


def _check_position(order: Order, held: int) -> None:
    """RULEBOOK: what a participant holds of a vintage plus its open buys may not pass the position
    limit. `order` is the new buy, already inserted (and so left out of the other open buys)."""
    with connection.cursor() as cursor:
        statements_execute(cursor, [(_OPEN_BUYS, [order.organization_id, order.instrument_id, order.pk])])
        open_buys = cursor.fetchone()[0]
    limit, quantity = settings.TRADING_POSITION_LIMIT, order.quantity
    if held + open_buys + quantity > limit:
        raise errors.PositionLimit(
            _("Holding %(held)s t with %(open)s t on open buys, this order would exceed the %(limit)s t limit.")
            % {"held": f"{held:,}", "open": f"{open_buys:,}", "limit": f"{limit:,}"},
            field="quantity",
        )


@retry_on_contention
def order_cancel(*, user: Any, order_id: int) -> Order:
    """Asks the matcher to cancel an open order of the user's own organization. The matcher releases
    what is left of its reservation, in sequence with the orders that may be trading against it.
    Only a trader may cancel (RULEBOOK: a compliance officer of the same company may not)."""
    if not (getattr(user, "is_authenticated", False) and user.has_perm("trading.trade")):
        raise errors.NotEligible(_("Your role does not include trading."))
    organization_ids = user_organization_ids(user)
    with transaction.atomic():
        # The instrument in the same query: the answer names it (locked: the order row only).
        order = (Order.objects.select_for_update(of=("self",)).select_related("instrument")
                 .filter(pk=order_id, organization_id__in=organization_ids).first())
        if order is None:
            raise NotFound(_("No such order."), field="id")
        if order.status not in Order.LIVE:
            raise errors.OrderNotOpen(_("The order is %(status)s.") % {"status": order.get_status_display().lower()}, field="id")
        if order.cancel_requested:
            return order
        order.cancel_requested = True
        order.save(update_fields=["cancel_requested", "updated_at"])
        _notify_matcher(order.instrument_id)
        _sequence_event(
            order.instrument_id, MarketEvent.Kind.CANCEL, order_id=order.pk,
            audit=audit_event(actor=user, action="order.cancel", obj=order, before={"status": order.status}),
        )
    if settings.MATCHER_INLINE:
        order.refresh_from_db()
    return order


# --- market status ---


def instrument_set_status(*, instrument: Instrument, status: str, reason: str, actor: Any) -> Instrument:
    """Open, halt or close an instrument (the exchange operator); the national regulator may halt."""
    may_operate = bool(getattr(actor, "pk", None)) and actor.has_perm("trading.operate_market")
    may_halt = may_operate or (bool(getattr(actor, "pk", None)) and actor.has_perm("trading.halt_market"))
    if not (may_operate or (status == Instrument.Status.HALTED and may_halt)):
        raise PermissionDenied()
    if status not in Instrument.Status.values:
        raise InvalidInput(_("Unknown status %(status)s.") % {"status": repr(status)}, field="status")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for this change."), field="reason")
    with transaction.atomic():
        locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
        before = {"status": locked.status}
        Instrument.objects.filter(pk=locked.pk).update(status=status, status_reason=reason)
        audit_record(actor=actor, action="instrument.status", obj=locked, before=before, after={"status": status, "reason": reason})
        live.changed("market", f"market:{locked.symbol}")
    instrument.status, instrument.status_reason = status, reason
    return instrument


# --- end of day ---


def end_of_day_expire(*, day: dt.date, actor: Any = None) -> list[int]:
    """Queues end-of-day expiry on every instrument: the matcher expires the day's resting orders
    in sequence and releases their reservations. Returns the expiry events' sequence numbers."""
    sequences = []
    with transaction.atomic():
        # The instrument rows are locked before looking: a second run started at the same moment (two
        # schedulers) waits here, then finds the expiry queued and does nothing. (No balance is
        # locked in this transaction, so taking the instruments first breaks no lock order.)
        for instrument in Instrument.objects.select_for_update().order_by("pk"):
            if DailyBar.objects.filter(instrument=instrument, day=day).exists() or MarketEvent.objects.filter(
                instrument=instrument, kind=MarketEvent.Kind.EXPIRE, trading_day=day
            ).exists():
                continue
            _notify_matcher(instrument.pk)
            sequences.append(_sequence_event(instrument.pk, MarketEvent.Kind.EXPIRE, day=day))
        if sequences:
            audit_record(actor=actor, action="market.expire", object_type="trading.day", object_id=str(day))
    return sequences


def end_of_day_close(*, day: dt.date, actor: Any = None) -> list[DailyBar]:
    """After expiry has been matched: settles what is left, computes each instrument's close (the
    day's volume-weighted average price, else the previous close) as the next reference price,
    stores the daily bar and releases pending allowances to available (T+1). Once per day: an
    instrument that has its bar is skipped, so running it twice changes nothing."""
    for instrument in Instrument.objects.exclude(daily_bars__day=day).select_related("matching_position"):
        expiry = MarketEvent.objects.filter(instrument=instrument, kind=MarketEvent.Kind.EXPIRE, trading_day=day).order_by("-sequence").first()
        if expiry is None or expiry.sequence > instrument.matching_position.matched_sequence:
            raise errors.EndOfDayPending(_("The end-of-day expiry of %(symbol)s has not been matched yet.") % {"symbol": instrument.symbol})
    block_offers_expire(day=day, actor=actor)
    trades_settle_all()
    if Trade.objects.filter(trading_day__lte=day, settled_at__isnull=True).exists():
        raise errors.EndOfDayPending(_("Some trades of the day are still unsettled."))
    bars = []
    for instrument in Instrument.objects.select_related("asset").order_by("pk"):
        if DailyBar.objects.filter(instrument=instrument, day=day).exists():
            continue
        with transaction.atomic():
            # One closer per instrument at a time (two schedulers may fire together): the second waits
            # here, then finds the bar and leaves the day alone. An advisory lock, not the instrument
            # row, because the balances must be locked before the instrument (order entry's order).
            advisory_xact_lock(LockKey(END_OF_DAY, instrument.pk))
            if DailyBar.objects.filter(instrument=instrument, day=day).exists():
                continue
            released = _pending_release_all(instrument.asset, actor=actor, reference=f"eod:{day}")
            locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
            bar = daily_bar_compute(locked, day)
            bar.save(force_insert=True)
            Instrument.objects.filter(pk=locked.pk).update(reference_price=bar.close)
            audit_record(actor=actor, action="market.close", obj=locked,
                         before={"reference_price": locked.reference_price}, after={"reference_price": bar.close, "day": str(day)})
            # Every page refreshes: new limits, and pending allowances became available.
            live.changed("market", f"market:{locked.symbol}", *(f"org:{o}" for o in released))
            bars.append(bar)
    return bars


def _pending_release_all(asset: Asset, *, actor: Any, reference: str) -> set[int]:
    """Releases every pending balance of `asset`; returns the organizations whose balances moved."""
    rows = list(Balance.objects.filter(asset=asset, pending__gt=0).select_related("account"))
    ledger_post(  # (the ledger re-reads each balance under its lock; pending only grows meanwhile)
        [Movement(kind=Transfer.Kind.PENDING_RELEASE, asset=asset, amount=row.pending, source=row.account,
                  source_bucket=Bucket.PENDING, destination=row.account, destination_bucket=Bucket.AVAILABLE, reference=reference)
         for row in rows],
        actor=actor,
    )
    return {row.account.organization_id for row in rows if row.account.organization_id}


# --- block offers at the end of day (the rest of block trading is trading.blocks, above this module) ---


def block_offer_release(offer: BlockOffer, *, actor: Any) -> None:
    """Releases what an open block offer (trading.blocks) still reserves; the caller holds its row lock."""
    if not offer.reserved:
        return
    holding, cash = _accounts_of(offer.organization)
    asset, account = (cash_asset(), cash) if offer.side == Side.BUY else (offer.instrument.asset, holding)
    ledger_post([Movement(kind=Transfer.Kind.RELEASE, asset=asset, amount=offer.reserved, source=account,
                          source_bucket=Bucket.RESERVED, destination=account, destination_bucket=Bucket.AVAILABLE,
                          reference=f"block:{offer.pk}")], actor=actor)
    offer.reserved = 0


def block_offers_expire(*, day: dt.date, actor: Any = None) -> int:
    """The end of day: every offer of `day` or earlier still open expires, its reservation released."""
    expired = 0
    for offer_id in BlockOffer.objects.filter(status=BlockOffer.Status.OPEN, trading_day__lte=day).values_list("pk", flat=True):
        with transaction.atomic():
            offer = BlockOffer.objects.select_for_update(of=("self",)).select_related("instrument__asset", "organization").get(pk=offer_id)
            if offer.status != BlockOffer.Status.OPEN:
                continue  # accepted or withdrawn meanwhile
            block_offer_release(offer, actor=actor)
            offer.status = BlockOffer.Status.EXPIRED
            offer.save(update_fields=["status", "reserved", "updated_at"])
            audit_record(actor=actor, action="block.expire", obj=offer, before={"status": BlockOffer.Status.OPEN},
                         after={"status": offer.status, "day": str(day)})
            live.changed(f"org:{offer.organization_id}")
            expired += 1
    return expired

