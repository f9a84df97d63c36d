"""Mail intake: IMAP mailboxes to stored documents."""
