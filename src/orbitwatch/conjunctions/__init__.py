"""conjunctions"""
