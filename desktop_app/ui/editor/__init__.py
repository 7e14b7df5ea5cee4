"""The editor page: canvas and its tools (brush, eraser, clicks), side panels, the editor
controller, its worker jobs and the file actions of the main window."""
