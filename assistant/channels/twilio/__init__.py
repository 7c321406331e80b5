"""The Twilio channel (SMS and WhatsApp): signed webhooks in, Messages API out."""
