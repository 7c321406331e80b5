"""Jobs: reminders and recurring tasks, their triggers, and the scheduler that fires them."""
