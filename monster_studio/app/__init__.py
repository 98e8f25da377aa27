"""The app without widgets (Qt core and gui only): the runner that runs jobs off the window's
thread, the jobs themselves, the app state the pages observe, and the studio that turns a page's
intent into jobs and their events into state."""
