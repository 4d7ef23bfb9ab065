"""Screen captures and images for the model: capture, zoom, contrast; its tools."""
