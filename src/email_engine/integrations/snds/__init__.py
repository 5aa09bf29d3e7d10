"""Microsoft SNDS (Smart Network Data Services): the automated data access feeds, fetched daily."""
