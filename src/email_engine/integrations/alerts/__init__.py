"""integrations/alerts"""
