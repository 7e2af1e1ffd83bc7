"""exercise"""
