const express = require('express');
const Task = require('../models/Task');
const { protect } = require('../middleware/auth');

const router = express.Router();

// The user's tasks, newest first; like the tutorials, not paged.
router.get('/', protect, async (req, res, next) => {
  try {
    const tasks = await Task.find({ user: req.user._id }).sort({ createdAt: -1 });
    return res.json(tasks);
  } catch (err) {
    return next(err);
  }
});

router.post('/', protect, async (req, res, next) => {
  try {
    const { title, description, priority, tags, dueDate } = req.body;
    if (!title) {
      return res.status(400).json({ message: 'Please add a title' });
    }
    const task = await Task.create({ user: req.user._id, title, description, priority, tags, dueDate });
    return res.status(201).json(task);
  } catch (err) {
    if (err.name === 'ValidationError') {
      return res.status(400).json({ message: err.message });
    }
    return next(err);
  }
});

module.exports = router;
