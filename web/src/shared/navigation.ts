// Leaving the app for a payment page (Stripe Checkout): only https pages are followed (the API
// gives nothing else, but a link is a link).
export function isPaymentPage(url: string): boolean {
  return url.startsWith("https://");
}

export function goTo(url: string): void {
  if (isPaymentPage(url)) window.location.assign(url);
}
