"""warmup"""
