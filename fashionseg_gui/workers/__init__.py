"""QThread workers: the only bridge between core jobs and the GUI."""
