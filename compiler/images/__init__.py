"""The image stage: from image requests to files, placeholders and image data."""
