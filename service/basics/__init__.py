"""Small pure helpers every layer may use: the one clock, phone numbers, GSM-7, pseudonyms and
masks, keyword matching. Imports nothing else from the service."""
