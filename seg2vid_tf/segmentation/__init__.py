"""Label maps for your own footage: segmenters from local files and their label spaces."""
