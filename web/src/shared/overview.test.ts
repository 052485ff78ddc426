import { describe, expect, it } from "vitest";
import { totalsNote, totalsState, unpricedNotice } from "./overview";

const acme = { client: { name: "Acme" }, base: "EUR", quote: "GBP", day: "2026-11-03" };

describe("totalsState", () => {
  it("shows totals for complete figures in one currency", () => {
    expect(totalsState({ currency: "USD", unpriced: [] })).toBe("shown");
  });

  it("says mixed currencies when the clients bill in several", () => {
    expect(totalsState({ currency: null, unpriced: [] })).toBe("mixed");
  });

  it("withholds totals while a client is unpriced, whatever the currencies", () => {
    expect(totalsState({ currency: "USD", unpriced: [acme] })).toBe("unpriced");
    expect(totalsState({ currency: null, unpriced: [acme] })).toBe("unpriced");
  });
});

describe("totalsNote", () => {
  it("says why there are no totals", () => {
    expect(totalsNote("mixed", 0)).toMatch(/different currencies/);
    expect(totalsNote("unpriced", 1)).toBe(
      "No totals while 1 client has no figures (a missing exchange rate, below): they would leave it out.",
    );
    expect(totalsNote("unpriced", 3)).toMatch(/^No totals while 3 clients have no figures/);
  });
});

describe("unpricedNotice", () => {
  it("names the client, the pair and the day, and where to fix it", () => {
    expect(unpricedNotice(acme, true)).toBe("Acme: no EUR→GBP rate in force on 2026-11-03: add one on the Settings page");
  });

  it("sends a read-only viewer to an owner or admin", () => {
    expect(unpricedNotice(acme, false)).toMatch(/: an owner or admin can add one on the Settings page$/);
  });
});
