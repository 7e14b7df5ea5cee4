"""Datasets, augmentation and click simulation for training (no app code here)."""
