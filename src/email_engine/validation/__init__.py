"""List validation: syntax, rules, suppression and DNS facts give each address a verdict."""
