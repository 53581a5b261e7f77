namespace DirectorySync.Simulator.History;

/// <summary>
/// The vocabulary realistic directories are drawn from. A few names carry accents and apostrophes so the receiver
/// meets non-ASCII UTF-8 and characters that a careless JSON encoder escapes.
/// </summary>
internal static class SampleNames
{
    public static readonly string[] FirstNames =
    [
        "Aaliyah", "Aarav", "Abigail", "Adam", "Adriana", "Ahmed", "Aiko", "Alejandro", "Alice", "Amara",
        "Amelia", "Ana", "Andrea", "Andrés", "Anika", "Anna", "Antoine", "Aria", "Arjun", "Astrid",
        "Ava", "Beatriz", "Benjamin", "Bianca", "Björn", "Camila", "Carlos", "Charlotte", "Chen", "Chloe",
        "Chiara", "Daniel", "David", "Diego", "Dmitri", "Elena", "Eli", "Elif", "Emily", "Emma",
        "Eric", "Ethan", "Fatima", "Felix", "Fernanda", "Finn", "François", "Gabriel", "Grace", "Hannah",
        "Hiroshi", "Ibrahim", "Ines", "Isabella", "Ivan", "Jack", "Jamal", "James", "Javier", "Jia",
        "Jonas", "José", "Julia", "Kai", "Karim", "Kenji", "Laila", "Lars", "Laura", "Leila",
        "Lela", "Leo", "Liam", "Lucas", "Lucía", "Maya", "Marcelina", "Mateo", "Mei", "Mia",
        "Mohammed", "Nadia", "Naomi", "Nikolai", "Noah", "Nora", "Olivia", "Omar", "Oscar", "Priya",
        "Rafael", "Ravi", "Rosa", "Sakura", "Samuel", "Sara", "Sebastián", "Sofia", "Søren", "Tariq",
        "Thomas", "Valentina", "Victor", "Wei", "William", "Yara", "Yusuf", "Zara", "Zoë", "Zoltán",
    ];

    public static readonly string[] LastNames =
    [
        "Abbott", "Adeyemi", "Alvarez", "Andersson", "Bakker", "Banerjee", "Becker", "Block", "Brown", "Castillo",
        "Chen", "Clarke", "Costa", "Davis", "Dubois", "Dupont", "Eriksen", "Evans", "Fernández", "Fischer",
        "Fitzgerald", "García", "Gonzalez", "Gupta", "Hansen", "Hernández", "Hoffmann", "Huang", "Ibrahim", "Ito",
        "Jansen", "Johnson", "Jones", "Kaur", "Kim", "Kowalski", "Kumar", "Larsen", "Laurent", "Lee",
        "Lefebvre", "Li", "Lopez", "Martin", "Martínez", "Meyer", "Miller", "Moreau", "Müller", "Murphy",
        "Nakamura", "Nguyen", "Novak", "O'Brien", "O'Connor", "Okafor", "Olsen", "Park", "Patel", "Perez",
        "Petrov", "Popescu", "Quinn", "Ramos", "Reddy", "Rossi", "Russo", "Saito", "Santos", "Schmidt",
        "Schneider", "Silva", "Singh", "Smith", "Sokolov", "Suzuki", "Svensson", "Tanaka", "Taylor", "Thompson",
        "Torres", "Tran", "Van der Berg", "Vargas", "Virtanen", "Wagner", "Walker", "Wang", "Weber", "Williams",
        "Wilson", "Wong", "Yamamoto", "Yilmaz", "Young", "Zhang", "Zhou", "Zimmermann", "Żukowski", "Ødegaard",
    ];

    public static readonly (string Name, string Domain)[] Companies =
    [
        ("Foo Corp", "foo-corp.com"), ("Acme Robotics", "acme-robotics.com"), ("Globex", "globex.io"),
        ("Initech", "initech.com"), ("Umbrella Health", "umbrella-health.org"), ("Stark Logistics", "starklogistics.com"),
        ("Wayne Foundation", "wayne-foundation.org"), ("Hooli", "hooli.xyz"), ("Pied Piper", "piedpiper.com"),
        ("Vandelay Industries", "vandelay.com"), ("Soylent Foods", "soylent.co"), ("Tyrell Systems", "tyrell.ai"),
    ];

    /// <summary>Directory types as WorkOS names them: an open set (FACTS §3).</summary>
    public static readonly string[] DirectoryTypes =
    [
        "okta scim v2.0", "azure scim v2.0", "generic scim v2.0", "gsuite directory", "onelogin scim v2.0",
        "jump cloud scim v2.0", "rippling", "workday", "bamboohr", "hibob",
    ];

    public static readonly string[] Departments =
    [
        "Engineering", "Sales", "Marketing", "Finance", "Legal", "People", "Support", "Operations", "Design", "Research",
    ];

    public static readonly string[] JobTitles =
    [
        "Software Engineer", "Senior Software Engineer", "Staff Engineer", "Engineering Manager", "Product Manager",
        "Designer", "Account Executive", "Sales Engineer", "Customer Success Manager", "Support Specialist",
        "Financial Analyst", "Controller", "Counsel", "Recruiter", "People Partner", "Data Scientist",
        "Site Reliability Engineer", "Marketing Manager", "Office Manager", "Chief of Staff",
    ];

    public static readonly string[] GroupThemes =
    [
        "Engineering", "Platform", "Payments", "Identity", "Mobile", "Web", "Data", "Infrastructure", "Security",
        "Sales", "Marketing", "Finance", "Legal", "People", "Support", "Operations", "Design", "Research",
        "Leadership", "Contractors", "Interns", "On-call", "Admins", "Everyone",
    ];

    public static readonly string[] GroupSuffixes =
    [
        "", " EMEA", " AMER", " APAC", " Team", " Leads", " Berlin", " New York", " São Paulo", " Tokyo",
    ];

    /// <summary>Role slugs as configured through WorkOS group-to-role mappings (FACTS §6).</summary>
    public static readonly string[] RoleSlugs = ["member", "admin", "editor", "viewer", "billing-admin", "support-agent"];

    /// <summary>Keys a customer defines for itself: each directory picks a few, the receiver must not know them.</summary>
    public static readonly string[] CustomerAttributeKeys =
    [
        "cost_center", "office_location", "employee_type", "badge_id", "pronouns", "division", "hire_date", "tshirt_size",
    ];

    public static readonly string[] Offices = ["Berlin", "London", "New York", "San Francisco", "São Paulo", "Tokyo", "Remote"];

    public static readonly string[] EmployeeTypes = ["full_time", "part_time", "contractor", "intern"];

    public static readonly string[] Pronouns = ["she/her", "he/him", "they/them"];

    public static readonly string[] Divisions = ["Product", "Go-to-market", "G&A"];

    public static readonly string[] TshirtSizes = ["S", "M", "L", "XL"];
}
