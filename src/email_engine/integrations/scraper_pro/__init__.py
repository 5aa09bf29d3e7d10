"""scraper-pro: hard bounces, complaints and delivered counts sent as signed outbox events."""
