"""integrations/scraper_pro"""
