//! Human review: cases, queues and legal deadlines kept in Redis, the moderator web UI and the
//! compliance reports. It is empty until the review-queue issue lands.
