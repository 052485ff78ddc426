// Money and dates for display. Amounts arrive as Decimal strings and stay decimals (decimal.js):
// never a JS float for arithmetic. Dates are shown in the agency's time zone (Query.timeZone).
import Decimal from "decimal.js";

export const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN });
export type Dec = InstanceType<typeof D>;

const SMALL_DIGITS = 6;

function minorDigits(currency: string, locale?: string): number {
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** Groups the integer part of a plain decimal string the way `locale` does, digit for digit. */
function localize(fixed: string, currency: string, digits: number, locale?: string): string {
  const format = new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  // Intl formats a numeric string exactly (no float) in current engines; the value was already
  // rounded half-even by decimal.js, so Intl only adds the symbol and separators.
  return format.format(fixed as unknown as number);
}

/**
 * An amount in its currency: rounded half-even to the currency's minor unit, except a non-zero
 * amount below one minor unit, which keeps up to 6 decimals (a single call's cost, say).
 */
export function formatMoney(amount: string, currency: string, locale?: string): string {
  const value = new D(amount);
  const digits = minorDigits(currency, locale);
  const unit = new D(1).dividedBy(new D(10).pow(digits));
  if (!value.isZero() && value.abs().lessThan(unit)) {
    const small = value.toDecimalPlaces(SMALL_DIGITS);
    const shown = small.isZero() ? value.toSignificantDigits(2) : small;
    const places = Math.max(digits, shown.decimalPlaces());
    return localize(shown.toFixed(places), currency, places, locale);
  }
  return localize(value.toFixed(digits), currency, digits, locale);
}

/** A ratio from the API ("0.25" = 25%) as a percent with one decimal. */
export function formatRatio(ratio: string | null | undefined): string {
  if (ratio == null) return "n/a";
  return `${new D(ratio).times(100).toFixed(1)}%`;
}

/** A percent as the API takes it ("30" = 30%). */
export function formatPercent(percent: string): string {
  return `${new D(percent).toString()}%`;
}

export function isNegative(amount: string | null | undefined): boolean {
  return amount != null && new D(amount).isNegative() && !new D(amount).isZero();
}

/** Exact sum of decimal strings. */
export function sum(amounts: readonly string[]): string {
  return amounts.reduce((total, a) => total.plus(a), new D(0)).toString();
}

/** Orders decimal strings (null last) without floats. */
export function compareDecimals(a: string | null | undefined, b: string | null | undefined): number {
  if (a == null) return b == null ? 0 : 1;
  if (b == null) return -1;
  return new D(a).comparedTo(b);
}

/** For charts only (drawing needs numbers; no arithmetic happens on them). */
export function chartNumber(amount: string): number {
  return new D(amount).toNumber();
}

export function formatInteger(value: number, locale?: string): string {
  return new Intl.NumberFormat(locale).format(value);
}

export function formatDateTime(iso: string | null | undefined, zone: string, locale?: string): string {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale, {
    timeZone: zone,
    dateStyle: "medium",
    timeStyle: "short",
  }).format(new Date(iso));
}

export function formatDay(iso: string, zone: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { timeZone: zone, month: "short", day: "numeric" }).format(
    new Date(iso),
  );
}

/** The month "YYYY-MM" that `now` falls in, in `zone`. */
export function periodOf(now: Date, zone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
  }).formatToParts(now);
  const year = parts.find((p) => p.type === "year")?.value ?? "1970";
  const month = parts.find((p) => p.type === "month")?.value ?? "01";
  return `${year}-${month}`;
}

/** The month `delta` months after "YYYY-MM". */
export function shiftPeriod(period: string, delta: number): string {
  const [year, month] = period.split("-").map(Number) as [number, number];
  const index = year * 12 + (month - 1) + delta;
  const y = Math.floor(index / 12);
  const m = (index % 12) + 1;
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}`;
}

export function periodLabel(period: string, locale?: string): string {
  const [year, month] = period.split("-").map(Number) as [number, number];
  return new Intl.DateTimeFormat(locale, { timeZone: "UTC", month: "long", year: "numeric" }).format(
    new Date(Date.UTC(year, month - 1, 1)),
  );
}

/** Minutes `zone` is ahead of UTC at `instant`. */
function zoneOffsetMinutes(instant: Date, zone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((wall - instant.getTime()) / 60000);
}

/** The instant the month "YYYY-MM" starts in `zone` (midnight on the 1st there), as ISO. */
export function startOfPeriod(period: string, zone: string): string {
  const [year, month] = period.split("-").map(Number) as [number, number];
  const wall = Date.UTC(year, month - 1, 1);
  // Two passes: the offset at the guess can differ from the offset at the answer (DST).
  let instant = wall - zoneOffsetMinutes(new Date(wall), zone) * 60000;
  instant = wall - zoneOffsetMinutes(new Date(instant), zone) * 60000;
  return new Date(instant).toISOString();
}
