"""integrations/mailwizz"""
