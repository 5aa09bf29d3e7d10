"""integrations/powermta"""
