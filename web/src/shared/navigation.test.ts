import { describe, expect, it } from "vitest";
import { isPaymentPage } from "./navigation";

describe("isPaymentPage", () => {
  it("follows https payment pages only", () => {
    expect(isPaymentPage("https://checkout.stripe.com/c/pay/cs_test_1")).toBe(true);
    expect(isPaymentPage("http://checkout.stripe.com/c/pay/cs_test_1")).toBe(false);
    expect(isPaymentPage("javascript:alert(1)")).toBe(false);
  });
});
