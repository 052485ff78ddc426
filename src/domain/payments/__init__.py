"""Getting paid: the seams between wallets, invoice delivery and a payment processor."""
