"""Test harness: a fault-injecting loopback proxy, the bot as a process, chats and code accounting."""
