import { describe, expect, it } from "vitest";
import { addressInput, optional, printedAddress, treatmentLabel } from "./tax";

describe("tax helpers", () => {
  it("labels treatments, unknown ones readably", () => {
    expect(treatmentLabel("REVERSE_CHARGE")).toBe("Reverse charge (0, both tax ids printed)");
    expect(treatmentLabel("SOMETHING_NEW")).toBe("something new");
  });

  it("turns a form into the API's address and prints it as the invoice does", () => {
    const address = addressInput({
      lines: " 1 High St \n\n Floor 2 ",
      city: " London ",
      postalCode: "EC1A 1BB",
      region: "",
      country: "gb",
    });
    expect(address).toEqual({ lines: ["1 High St", "Floor 2"], city: "London", postalCode: "EC1A 1BB", region: "", country: "GB" });
    expect(printedAddress(address)).toEqual(["1 High St", "Floor 2", "EC1A 1BB London", "GB"]);
    expect(printedAddress({ lines: [], city: "", postalCode: "", region: "", country: "" })).toEqual([]);
  });

  it("sends empty optional text as null", () => {
    expect(optional("  ")).toBeNull();
    expect(optional(" DE123 ")).toBe("DE123");
  });
});
